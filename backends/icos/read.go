package icos

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/earthmount/earthmount/backends"
)

// ReadAt implements backends.Store: every range of an object comes from
// its one whole, verified download (blobs.go). Version is the object id;
// a key whose listing now names another object is ErrStale.
func (s *Store) ReadAt(ctx context.Context, obj backends.ObjectRef, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, s.fail("read", obj.Key, backends.ErrNotSupported, errors.New("negative offset"), "")
	}
	f, err := s.resolve(ctx, "read", obj.Key)
	if err != nil {
		return 0, err
	}
	if obj.Version != "" && obj.Version != f.id {
		return 0, s.fail("read", obj.Key, backends.ErrStale, fmt.Errorf("version %s is now %s", obj.Version, f.id), "")
	}
	if off >= f.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	bl, err := s.blobs.acquire(ctx, obj.Key, f)
	if err != nil {
		return 0, err
	}
	defer s.blobs.release(bl)
	want := p[:min(int64(len(p)), f.size-off)]
	n, err := bl.f.ReadAt(want, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, s.fail("read", obj.Key, backends.ErrUnavailable, err, "")
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
