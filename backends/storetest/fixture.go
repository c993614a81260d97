package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/earthmount/earthmount/backends"
)

// BigSize is the size of the fixture's large object: several chunks of a
// typical chunk cache, and more than one read of most servers' buffers.
const BigSize = 3 << 20

// Object is one object of the fixture.
type Object struct {
	Key  string // full store key, below Factory.Root
	Data []byte
}

// Capabilities declares what a store cannot do, so that the suite leaves
// out those objects and checks. The zero value is a store with buckets
// off, writable, and able to hold any key.
type Capabilities struct {
	// Buckets is set when the first key segment is a bucket or container
	// (S3, Swift): listing or reading one that does not exist must fail
	// with ErrNotExist. Plain keyspaces (memstore) return empty pages.
	Buckets bool
	// ReadOnly stores offer no Overwrite; the checks that the old version
	// turns stale after an overwrite are skipped.
	ReadOnly bool
	// NoKeyAlsoPrefix is set when the store cannot hold an object "a"
	// beside "a/x" (servers that keep objects as plain files).
	NoKeyAlsoPrefix bool
}

// Factory connects Run to one store implementation.
type Factory struct {
	// Root is "" or a prefix ending in "/" below which the fixture lives;
	// for stores with buckets it starts with the bucket that New creates.
	Root string
	// Capabilities of the store.
	Capabilities Capabilities
	// New returns the store under test holding exactly the given objects
	// below Root. Run calls it once; release resources with t.Cleanup.
	New func(t *testing.T, fixture []Object) backends.Store
	// Overwrite replaces the content of key in the store New returned
	// (so that its Version changes). It may be nil when ReadOnly is set.
	Overwrite func(ctx context.Context, key string, data []byte) error
}

// Relative keys of the fixture that the checks refer to by name.
const (
	keySmall   = "a.txt"
	keyEmpty   = "empty"
	keyBig     = "big.bin"
	keyMarker  = "dir/"
	keyBoth    = "both"
	keyUnicode = "unicode/grüße 𝄞.txt"
	keySame    = "stale/same"
	keyGrow    = "stale/grow"
	dirMany    = "many/"
	manyKeys   = 25
)

// Fixture returns the standard fixture below root for a store with caps:
// nested directories, an empty file, a directory marker "dir/", a BigSize
// object, names with unicode and spaces, a key that is also a prefix, keys
// whose byte order differs from the order of their directories, and enough
// keys in one directory to take several pages with a small Limit.
func Fixture(root string, caps Capabilities) []Object {
	small := func(rel string) Object {
		return Object{Key: root + rel, Data: fmt.Appendf(nil, "content of %s\n", rel)}
	}
	objs := []Object{
		small(keySmall),
		{Key: root + keyEmpty, Data: []byte{}},
		{Key: root + keyBig, Data: pseudoRandom(BigSize, 1)},
		{Key: root + keyMarker, Data: []byte{}},
		small("dir/x.txt"),
		small("dir/sub/y.txt"),
		small("dir/sub/deeper/z.txt"),
		small(keyUnicode),
		small("unicode/with space.txt"),
		small("unicode/日本語/ファイル.txt"),
		small("both/inner.txt"),
		// '-' < '.' < '/' < '0': "a-b/" and "a/" bracket "a.txt".
		small("order/a-b/x"),
		small("order/a.txt"),
		small("order/a/x"),
		small("order/a0"),
		small(dirMany + "d05/x"),
		small(dirMany + "d17/x"),
	}
	for i := range manyKeys {
		objs = append(objs, small(fmt.Sprintf("%sk%02d", dirMany, i)))
	}
	if !caps.NoKeyAlsoPrefix {
		objs = append(objs, small(keyBoth))
	}
	if !caps.ReadOnly {
		objs = append(objs, Object{Key: root + keySame, Data: pseudoRandom(4096, 2)},
			Object{Key: root + keyGrow, Data: pseudoRandom(1000, 3)})
	}
	return objs
}

// pseudoRandom returns n reproducible bytes; seed tells fixtures apart.
func pseudoRandom(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}
