// Package disk is earthmount's optional disk tier: blocks of object bytes
// kept in files under one directory, so that data read once is read again
// from local disk, across unmounts and restarts, instead of from the store.
//
// A Tier wraps the Source the chunk cache reads from (Tier.Wrap). A read
// of (remote, key, version, offset, length) is answered from its block
// file when one exists and checks out; otherwise it goes to the store,
// and the bytes the store returned are queued to be written as a block.
// The memory cache in front is unchanged: the disk tier only sees its
// misses.
//
// # What is cached
//
// Only reads of a pinned version (ObjectRef.Version not empty) of known
// size that the store answered in full. The version is part of the block
// name, so an overwritten object never serves old bytes; objects without
// a version are never written to disk.
//
// # Layout and format
//
//	DIR/LOCK            flock'd by the one process using DIR; holds its pid
//	DIR/v1/ab/cdef...   one block: the SHA-256 of its identity, in hex,
//	                    split after two digits (256 subdirectories)
//	DIR/tmp/            blocks being written
//
// A block file is a header (magic, CRC-32C of the payload, lengths, the
// identity string) followed by the payload. CRC-32C (Castagnoli) is the
// checksum because it catches what goes wrong on a local disk (torn or
// truncated writes, flipped bits, a file overwritten by something else)
// at memory speed (hardware instruction on amd64 and arm64: 25 GB/s on
// the test machine, a third of a millisecond per 8 MiB block), where Go's
// SHA-256 does 0.46 GB/s there (18 ms per block, on every read);
// nobody but the owner can write the 0700 directory, so there is no
// adversary to defend against. The identity string in the header is
// compared too, so a block can never answer for another one.
//
// Every read checks the header and the checksum before the bytes are
// returned; a block that fails is deleted and the read goes to the store
// (whose bytes are then written again). Blocks are written to DIR/tmp and
// renamed into place, so a partly written block is never visible under
// its name. There is no fsync: after a crash a block may be short or
// garbled, and the check on read throws it away.
//
// # Restarts and sharing
//
// Open takes an exclusive flock on DIR/LOCK (released by the kernel when
// the process ends, however it ends), deletes what is left in DIR/tmp and
// rebuilds the index by listing DIR/v1, least recently used first by
// modification time (a hit touches the file). A second process that
// names the same directory gets ErrLocked: two mounts never write or evict
// in one directory at once. Give each mount its own cache.dir to have a
// disk tier in both.
//
// # Bounds
//
// Cap bounds the bytes of the block files (headers included; filesystem
// block rounding is extra); the least recently used blocks are deleted
// first. Writes never slow a read: a fetched block is copied into a queue
// of at most QueueBytes (default 32 MiB) and written by two goroutines;
// when the queue is full the block is not written. The index costs about
// 150 bytes of memory per block.
//
// It imports backends and the standard library only; never cache, fs,
// cmd or a storage SDK (its Source is the cache's method set, declared
// here).
package disk
