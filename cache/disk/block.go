package disk

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// magic starts every block file; the digit is the format version.
const magic = "emblk1\n\x00"

// headerFixed is the size of the header before the identity string:
// magic, CRC-32C of the payload, identity length, payload length.
const headerFixed = len(magic) + 4 + 4 + 8

// maxIdentity bounds the identity string a header may claim, so that a
// garbled header cannot make a read allocate much.
const maxIdentity = 16 << 10

// checksum is the CRC-32C of p (MakeTable returns the one shared,
// hardware-accelerated Castagnoli table).
func checksum(p []byte) uint32 {
	return crc32.Checksum(p, crc32.MakeTable(crc32.Castagnoli))
}

// errCorrupt marks a block file that failed a check.
var errCorrupt = errors.New("disk: corrupt block")

// blockKey identifies one block: a byte range of one version of one
// object of one remote.
type blockKey struct {
	remote, key, version string
	off                  int64
	n                    int
}

// identity is the string stored in the header and hashed into the name.
// NUL cannot occur in remote names or keys the filesystem serves.
func (k blockKey) identity() string {
	return k.remote + "\x00" + k.key + "\x00" + k.version + "\x00" +
		strconv.FormatInt(k.off, 10) + "\x00" + strconv.Itoa(k.n)
}

// name is the block's file name: the hex SHA-256 of its identity.
func (k blockKey) name() string {
	sum := sha256.Sum256([]byte(k.identity()))
	return hex.EncodeToString(sum[:])
}

// validName reports whether s is a name that blockKey.name can produce.
func validName(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// blockPath is where the block called name lives under the v1 directory.
func blockPath(v1, name string) string {
	return filepath.Join(v1, name[:2], name[2:])
}

// fileSize is the size of the block file of a payload of n bytes.
func fileSize(id string, n int) int64 {
	return int64(headerFixed + len(id) + n)
}

// header returns the header of a block with identity id and payload p.
func header(id string, p []byte) []byte {
	h := make([]byte, headerFixed, headerFixed+len(id))
	copy(h, magic)
	binary.LittleEndian.PutUint32(h[len(magic):], checksum(p))
	binary.LittleEndian.PutUint32(h[len(magic)+4:], uint32(len(id)))
	binary.LittleEndian.PutUint64(h[len(magic)+8:], uint64(len(p)))
	return append(h, id...)
}

// writeBlock writes the block into a new file in tmpDir and returns its
// name there; the caller renames it into place or removes it.
func writeBlock(tmpDir, id string, p []byte) (string, error) {
	f, err := os.CreateTemp(tmpDir, "blk-*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(header(id, p))
	if err == nil {
		_, err = f.Write(p)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// readBlock reads the payload of the block file at path into p and
// checks it: the header must carry identity id and len(p), the file must
// end with the payload, and the payload must match its CRC-32C. Any
// mismatch is an error wrapping errCorrupt; p then holds garbage.
func readBlock(path, id string, p []byte) error {
	f, sum, err := openBlock(path, id, len(p))
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.ReadFull(f, p); err != nil {
		return fmt.Errorf("%w: payload: %v", errCorrupt, err)
	}
	var extra [1]byte
	if k, _ := f.Read(extra[:]); k != 0 {
		return fmt.Errorf("%w: longer than its header says", errCorrupt)
	}
	if checksum(p) != sum {
		return fmt.Errorf("%w: checksum mismatch", errCorrupt)
	}
	return nil
}

// readBlockRange reads bytes [sub, sub+len(p)) of the n-byte payload of
// the block file at path into p. The whole payload is still checked: it
// streams through the CRC in small pieces, so a slice of a big block
// costs no buffer of the block's size.
func readBlockRange(path, id string, n int, p []byte, sub int) error {
	f, sum, err := openBlock(path, id, n)
	if err != nil {
		return err
	}
	defer f.Close()
	crc := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	buf := make([]byte, 64<<10)
	for pos := 0; pos < n; {
		k, err := io.ReadFull(f, buf[:min(len(buf), n-pos)])
		if err != nil {
			return fmt.Errorf("%w: payload: %v", errCorrupt, err)
		}
		crc.Write(buf[:k])
		// The part of [pos, pos+k) that falls in [sub, sub+len(p)).
		lo, hi := max(pos, sub), min(pos+k, sub+len(p))
		if lo < hi {
			copy(p[lo-sub:hi-sub], buf[lo-pos:hi-pos])
		}
		pos += k
	}
	var extra [1]byte
	if k, _ := f.Read(extra[:]); k != 0 {
		return fmt.Errorf("%w: longer than its header says", errCorrupt)
	}
	if crc.Sum32() != sum {
		return fmt.Errorf("%w: checksum mismatch", errCorrupt)
	}
	return nil
}

// openBlock opens the block file at path and checks its header: it must
// carry identity id and a payload of n bytes. The file is left at the
// start of the payload; the payload's CRC-32C is returned.
func openBlock(path, id string, n int) (*os.File, uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	sum, err := checkHeader(f, id, n)
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, sum, nil
}

// checkHeader reads and checks a block header from r.
func checkHeader(r io.Reader, id string, n int) (uint32, error) {
	f := r
	var fixed [headerFixed]byte
	if _, err := io.ReadFull(f, fixed[:]); err != nil {
		return 0, fmt.Errorf("%w: header: %v", errCorrupt, err)
	}
	if string(fixed[:len(magic)]) != magic {
		return 0, fmt.Errorf("%w: bad magic", errCorrupt)
	}
	sum := binary.LittleEndian.Uint32(fixed[len(magic):])
	idLen := binary.LittleEndian.Uint32(fixed[len(magic)+4:])
	size := binary.LittleEndian.Uint64(fixed[len(magic)+8:])
	if idLen != uint32(len(id)) || idLen > maxIdentity || size != uint64(n) {
		return 0, fmt.Errorf("%w: header names another block", errCorrupt)
	}
	got := make([]byte, idLen)
	if _, err := io.ReadFull(f, got); err != nil || string(got) != id {
		return 0, fmt.Errorf("%w: header names another block", errCorrupt)
	}
	return sum, nil
}
