// Package backends defines the one contract between the filesystem and the
// object stores: Store, its request and result types, and the error kinds
// that fs maps to errno.
//
// Keys are slash-separated and relative to the store root, with no leading
// slash. A store that spans several buckets or containers (an S3 endpoint, a
// Swift account) exposes each of them as the first key segment: the bucket
// "data" is the prefix "data/". Directories do not exist in the stores; fs
// derives them from delimiter listings.
//
// This package imports only the standard library. Implementations live in
// sub-packages (s3, memstore, ...), and storetest holds the contract suite
// every implementation passes.
package backends
