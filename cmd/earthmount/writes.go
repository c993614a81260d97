package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/cmd/earthmount/config"
	"github.com/earthmount/earthmount/fs"
)

// remoteWritable reports whether r's config says read_only: false.
func remoteWritable(r *config.Remote) bool {
	return (r.S3 != nil && r.S3.Writable) || (r.Swift != nil && r.Swift.Writable)
}

// writerFor returns the write side of st for a writable remote, nil for a
// read-only one, or an error when the store type cannot write.
func writerFor(r *config.Remote, st backends.Store) (fs.WriteStore, error) {
	if !remoteWritable(r) {
		return nil, nil
	}
	w, ok := st.(fs.WriteStore)
	if !ok {
		return nil, fmt.Errorf("remote %s: read_only: false, but %s remotes cannot be written yet", r.Name, r.Type)
	}
	return w, nil
}

// openSpool prepares the staging directory of writes when any remote is
// writable.
func openSpool(cfg *config.Config, remotes []*config.Remote, getenv func(string) string, log *slog.Logger) (*fs.Spool, error) {
	writable := false
	for _, r := range remotes {
		writable = writable || remoteWritable(r)
	}
	if !writable {
		return nil, nil
	}
	dir, size := cfg.Cache.Spool, cfg.Cache.SpoolSize
	if dir == "" {
		dir = config.DefaultSpoolDir(getenv)
	}
	if size == 0 {
		size = config.DefaultSpoolSize
	}
	return fs.NewSpool(dir, size)
}

// resumeSpool uploads the files earlier mounts failed to upload, when
// their remote is mounted writable now, and reports the others: a failed
// resume, a remote not mounted, or a file left by a crash (no target).
func resumeSpool(ctx context.Context, sp *fs.Spool, remotes []fs.Remote, log *slog.Logger) error {
	if sp == nil {
		return nil
	}
	left, err := sp.Leftovers()
	if err != nil {
		return fmt.Errorf("spool %s: %w", sp.Dir(), err)
	}
	for _, l := range left {
		if l.Partial {
			log.Warn("spool holds a file that was still being written when earthmount stopped; it may be incomplete and is not uploaded: copy it into the mount again, then delete the spool file",
				"spool_file", l.Path, "remote", l.Remote, "key", l.Key)
			continue
		}
		var w fs.WriteStore
		for _, r := range remotes {
			if r.Name == l.Remote {
				w = r.Writer
			}
		}
		if w == nil {
			log.Warn("spool holds a file an earlier mount did not upload; copy it into the mount again or delete it",
				"spool_file", l.Path, "remote", l.Remote, "key", l.Key)
			continue
		}
		if _, err := sp.Resume(ctx, l, w); err != nil {
			log.Warn("resuming an upload left in the spool failed; the next mount tries again",
				"spool_file", l.Path, "remote", l.Remote, "key", l.Key, "err", err)
			continue
		}
		log.Info("uploaded a file an earlier mount left in the spool", "remote", l.Remote, "key", l.Key)
	}
	return nil
}

// meterWriter counts w's requests in the metrics (ops upload, remove,
// rename, setmodtime) when the remote's store is metered.
func meterWriter(w fs.WriteStore, store backends.Store) fs.WriteStore {
	ms, ok := store.(*meteredStore)
	if w == nil || !ok {
		return w
	}
	return &meteredWriter{WriteStore: w, m: ms}
}

type meteredWriter struct {
	fs.WriteStore
	m *meteredStore
}

func (w *meteredWriter) Upload(ctx context.Context, key string, body io.ReaderAt, size int64, mtime time.Time) (backends.ObjectInfo, error) {
	start := time.Now()
	info, err := w.WriteStore.Upload(ctx, key, body, size, mtime)
	w.m.observe("upload", start, err)
	return info, err
}

func (w *meteredWriter) Remove(ctx context.Context, key string) error {
	start := time.Now()
	err := w.WriteStore.Remove(ctx, key)
	w.m.observe("remove", start, err)
	return err
}

func (w *meteredWriter) Rename(ctx context.Context, src, dst string) (backends.ObjectInfo, error) {
	start := time.Now()
	info, err := w.WriteStore.Rename(ctx, src, dst)
	w.m.observe("rename", start, err)
	return info, err
}

func (w *meteredWriter) SetModTime(ctx context.Context, key string, mtime time.Time) (backends.ObjectInfo, error) {
	start := time.Now()
	info, err := w.WriteStore.SetModTime(ctx, key, mtime)
	w.m.observe("setmodtime", start, err)
	return info, err
}

func (w *meteredWriter) Stat(ctx context.Context, key string) (backends.ObjectInfo, error) {
	start := time.Now()
	info, err := w.WriteStore.Stat(ctx, key)
	w.m.observe("stat", start, err)
	return info, err
}
