package disk

import (
	"container/list"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// rebuild empties the temporary directory (we hold the lock, so whatever
// is there was left by a process that died mid-write) and indexes the
// block files, oldest modification time least recently used.
func (t *Tier) rebuild() error {
	tmps, err := os.ReadDir(t.tmp)
	if err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	for _, e := range tmps {
		if os.RemoveAll(filepath.Join(t.tmp, e.Name())) == nil {
			t.removedOpen++
		}
	}
	type found struct {
		entry
		mtime time.Time
	}
	var all []found
	subs, err := os.ReadDir(t.v1)
	if err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	for _, sub := range subs {
		if !sub.IsDir() || len(sub.Name()) != 2 {
			continue
		}
		dir := filepath.Join(t.v1, sub.Name())
		files, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("disk: %w", err)
		}
		for _, f := range files {
			name := sub.Name() + f.Name()
			info, err := f.Info()
			if err != nil || !f.Type().IsRegular() || !validName(name) || name[:2] != sub.Name() {
				// Not ours (or gone meanwhile): leave it alone.
				continue
			}
			all = append(all, found{entry{name: name, size: info.Size()}, info.ModTime()})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].mtime.Before(all[j].mtime) })
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range all {
		e := f.entry
		t.index[e.name] = t.lru.PushFront(&e)
		t.used += e.size
	}
	t.evictLocked()
	t.log.Debug("disk cache opened", "dir", t.opts.Dir, "blocks", t.lru.Len(), "bytes", t.used, "cap", t.opts.Cap,
		"temporary_files_removed", t.removedOpen)
	return nil
}

// get fills p with block k from the queue or from disk and reports
// whether it did, counting a hit or a miss.
func (t *Tier) get(k blockKey, p []byte) bool {
	ok := t.lookup(k, p, 0)
	t.count(ok)
	return ok
}

// count records the outcome of one read.
func (t *Tier) count(hit bool) {
	if hit {
		t.hits.Add(1)
	} else {
		t.misses.Add(1)
	}
}

// lookup fills p with bytes [sub, sub+len(p)) of block k (k.n bytes)
// from the queue or from disk and reports whether it did. A block that
// fails its check is deleted.
func (t *Tier) lookup(k blockKey, p []byte, sub int) bool {
	if sub < 0 || sub+len(p) > k.n {
		return false
	}
	name := k.name()
	t.mu.Lock()
	if buf, ok := t.pending[name]; ok && len(buf) == k.n {
		copy(p, buf[sub:])
		t.mu.Unlock()
		return true
	}
	el, ok := t.index[name]
	if !ok || t.closed {
		t.mu.Unlock()
		return false
	}
	t.lru.MoveToFront(el)
	t.mu.Unlock()

	path := blockPath(t.v1, name)
	var err error
	if sub == 0 && len(p) == k.n {
		err = readBlock(path, k.identity(), p)
	} else {
		err = readBlockRange(path, k.identity(), k.n, p, sub)
	}
	if err == nil {
		now := time.Now()
		os.Chtimes(path, now, now) // LRU order for the next Open; best effort
		return true
	}
	if errors.Is(err, errCorrupt) {
		t.corrupt.Add(1)
		t.log.Warn("disk cache block failed its check; deleted, reading from the store", "key", k.key, "offset", k.off, "err", err)
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.log.Warn("disk cache block unreadable; deleted, reading from the store", "key", k.key, "offset", k.off, "err", err)
	}
	t.mu.Lock()
	if t.index[name] == el { // not replaced by a fresh write meanwhile
		t.removeLocked(el)
	}
	t.mu.Unlock()
	return false
}

// insert renames the written file tmpPath into place as block name and
// indexes it, evicting as needed.
func (t *Tier) insert(name, tmpPath string, size int64) error {
	path := blockPath(t.v1, name)
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := os.Rename(tmpPath, path); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		// First block in this subdirectory.
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		if err := os.Rename(tmpPath, path); err != nil {
			return err
		}
	}
	if old, ok := t.index[name]; ok {
		t.used -= old.Value.(*entry).size
		t.lru.Remove(old)
	}
	t.index[name] = t.lru.PushFront(&entry{name: name, size: size})
	t.used += size
	t.evictLocked()
	return nil
}

// evictLocked deletes least recently used blocks until the cap holds.
// LOCKS_REQUIRED(t.mu)
func (t *Tier) evictLocked() {
	for t.used > t.opts.Cap {
		el := t.lru.Back()
		if el == nil {
			return
		}
		t.removeLocked(el)
		t.evictions.Add(1)
	}
}

// removeLocked deletes the block of el and forgets it.
// LOCKS_REQUIRED(t.mu)
func (t *Tier) removeLocked(el *list.Element) {
	e := el.Value.(*entry)
	if err := os.Remove(blockPath(t.v1, e.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.log.Debug("disk cache: removing a block failed", "block", e.name, "err", err)
	}
	t.lru.Remove(el)
	delete(t.index, e.name)
	t.used -= e.size
}
