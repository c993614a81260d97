package memstore

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"strconv"
	"time"

	"github.com/earthmount/earthmount/backends"
)

var _ backends.Writer = (*Store)(nil)

// Upload implements backends.Writer. The object's ModTime is mtime, as
// a Stat of an S3 object carrying X-Amz-Meta-Mtime reports it.
func (s *Store) Upload(ctx context.Context, key string, body io.ReaderAt, size int64, mtime time.Time) (backends.ObjectInfo, error) {
	if err := s.begin(ctx, "upload", key); err != nil {
		return backends.ObjectInfo{}, err
	}
	data := make([]byte, size)
	if n, err := body.ReadAt(data, 0); int64(n) != size && err != nil {
		return backends.ObjectInfo{}, &backends.Error{Op: "upload", Remote: "memstore", Key: key, Err: err}
	}
	return s.store(key, data, mtime), nil
}

// Remove implements backends.Writer.
func (s *Store) Remove(ctx context.Context, key string) error {
	if err := s.begin(ctx, "remove", key); err != nil {
		return err
	}
	s.Delete(key)
	return nil
}

// Rename implements backends.Writer (counted as "rename").
func (s *Store) Rename(ctx context.Context, src, dst string) (backends.ObjectInfo, error) {
	if err := s.begin(ctx, "rename", src); err != nil {
		return backends.ObjectInfo{}, err
	}
	s.mu.Lock()
	o, ok := s.objects[src]
	delete(s.objects, src)
	s.mu.Unlock()
	if !ok {
		return backends.ObjectInfo{}, notExist("rename", src)
	}
	return s.store(dst, o.data, o.info.ModTime), nil
}

// SetModTime implements backends.Writer; like an S3 copy onto itself, it
// makes a new version.
func (s *Store) SetModTime(ctx context.Context, key string, mtime time.Time) (backends.ObjectInfo, error) {
	if err := s.begin(ctx, "setmodtime", key); err != nil {
		return backends.ObjectInfo{}, err
	}
	s.mu.Lock()
	o, ok := s.objects[key]
	s.mu.Unlock()
	if !ok {
		return backends.ObjectInfo{}, notExist("setmodtime", key)
	}
	return s.store(key, o.data, mtime), nil
}

// store keeps data (not copied) under key as a new version.
func (s *Store) store(key string, data []byte, mtime time.Time) backends.ObjectInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	sum := md5.Sum(append(append([]byte(nil), data...), []byte(strconv.Itoa(s.seq))...))
	info := backends.ObjectInfo{Key: key, Size: int64(len(data)), ModTime: mtime, Version: hex.EncodeToString(sum[:])}
	s.objects[key] = object{data: data, info: info}
	return info
}
