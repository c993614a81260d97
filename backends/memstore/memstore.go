// Package memstore is an in-memory backends.Store: the fake that unit tests
// of cache and fs run against. It passes the same storetest contract suite
// as the real stores, so it cannot drift from them.
package memstore

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/earthmount/earthmount/backends"
)

// Store holds objects in memory. The zero value is not usable; call New.
type Store struct {
	mu      sync.Mutex
	objects map[string]object // guarded by mu
	counts  map[string]int    // requests by operation; guarded by mu
	seq     int               // version counter; guarded by mu
	now     func() time.Time

	// Hook, when set, runs before every operation with its name ("list",
	// "stat", "read") and key; a non-nil error fails the operation. Tests
	// use it to inject latency and faults. Set it before concurrent use.
	Hook func(ctx context.Context, op, key string) error
}

type object struct {
	data []byte
	info backends.ObjectInfo
}

var _ backends.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{objects: map[string]object{}, counts: map[string]int{}, now: time.Now}
}

// Put stores data under key, replacing any previous object with a new
// version, and returns what a Stat would.
func (s *Store) Put(key string, data []byte) backends.ObjectInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	sum := md5.Sum(append(append([]byte(nil), data...), []byte(strconv.Itoa(s.seq))...))
	info := backends.ObjectInfo{Key: key, Size: int64(len(data)), ModTime: s.now().UTC().Truncate(time.Second), Version: hex.EncodeToString(sum[:])}
	s.objects[key] = object{data: append([]byte(nil), data...), info: info}
	return info
}

// Delete removes key; deleting a missing key is not an error.
func (s *Store) Delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects, key)
}

// Counts returns how many requests of each operation the store answered.
func (s *Store) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// ResetCounts sets every request counter back to zero.
func (s *Store) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = map[string]int{}
}

func (s *Store) begin(ctx context.Context, op, key string) error {
	s.mu.Lock()
	s.counts[op]++
	s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.Hook != nil {
		return s.Hook(ctx, op, key)
	}
	return nil
}

func notExist(op, key string) error {
	return &backends.Error{Op: op, Remote: "memstore", Key: key, Err: backends.ErrNotExist}
}

// List implements backends.Store. The continuation token is the last name
// returned, so pages stay consistent when objects change in between.
func (s *Store) List(ctx context.Context, req backends.ListRequest) (backends.ListPage, error) {
	if err := s.begin(ctx, "list", req.Prefix); err != nil {
		return backends.ListPage{}, err
	}
	if req.Delimiter != "" && req.Delimiter != "/" {
		return backends.ListPage{}, &backends.Error{Op: "list", Remote: "memstore", Key: req.Prefix, Err: backends.ErrNotSupported}
	}
	limit := req.Limit
	if limit <= 0 {
		limit = 1000
	}
	s.mu.Lock()
	_, marker := s.objects[req.Prefix]
	keys := make([]string, 0, len(s.objects))
	for k := range s.objects {
		if strings.HasPrefix(k, req.Prefix) && k > req.Token && k != req.Prefix {
			keys = append(keys, k)
		}
	}
	s.mu.Unlock()
	sort.Strings(keys)

	page := backends.ListPage{Marker: marker && req.Prefix != "" && req.Token < req.Prefix}
	n, last := 0, ""
	for i := 0; i < len(keys) && n < limit; i++ {
		k := keys[i]
		rest := k[len(req.Prefix):]
		if j := strings.Index(rest, req.Delimiter); req.Delimiter != "" && j >= 0 {
			p := req.Prefix + rest[:j+1]
			page.Prefixes = append(page.Prefixes, p)
			// Skip every key under this prefix: the token moves past them.
			last = p + "\xff"
			for i+1 < len(keys) && strings.HasPrefix(keys[i+1], p) {
				i++
			}
		} else {
			s.mu.Lock()
			o, ok := s.objects[k]
			s.mu.Unlock()
			if !ok {
				continue
			}
			page.Objects = append(page.Objects, o.info)
			last = k
		}
		n++
		if n == limit && i+1 < len(keys) {
			page.Next = last
		}
	}
	return page, nil
}

// Stat implements backends.Store.
func (s *Store) Stat(ctx context.Context, key string) (backends.ObjectInfo, error) {
	if err := s.begin(ctx, "stat", key); err != nil {
		return backends.ObjectInfo{}, err
	}
	s.mu.Lock()
	o, ok := s.objects[key]
	s.mu.Unlock()
	if !ok {
		return backends.ObjectInfo{}, notExist("stat", key)
	}
	return o.info, nil
}

// ReadAt implements backends.Store.
func (s *Store) ReadAt(ctx context.Context, obj backends.ObjectRef, p []byte, off int64) (int, error) {
	if err := s.begin(ctx, "read", obj.Key); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, &backends.Error{Op: "read", Remote: "memstore", Key: obj.Key, Err: fmt.Errorf("negative offset %d", off)}
	}
	s.mu.Lock()
	o, ok := s.objects[obj.Key]
	s.mu.Unlock()
	if !ok {
		return 0, notExist("read", obj.Key)
	}
	if obj.Version != "" && obj.Version != o.info.Version {
		return 0, &backends.Error{Op: "read", Remote: "memstore", Key: obj.Key, Err: backends.ErrStale}
	}
	if off >= int64(len(o.data)) {
		return 0, io.EOF
	}
	n := copy(p, o.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
