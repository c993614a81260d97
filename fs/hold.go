package fs

import (
	"context"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Held uploads: rsync writes every file to a temporary ".NAME.XXXXXX" in
// the destination directory, closes it, sets its mtime and renames it to
// NAME. Uploading at that close would cost three more requests per file
// (the upload under the temporary key, a copy to set the mtime, a copy
// and a delete to rename it). So the close of a file with such a name
// keeps its content in the spool, and the upload waits for its rename:
// the mtime is set locally, and the rename uploads once, to the final
// key, with the final mtime; a failed upload fails the rename (EIO).
// A held file whose rename does not come within holdDelay (a program
// that keeps such a name) is uploaded under its own name then, and at
// unmount; its errors are only logged. Until then other mounts do not
// see it.
const holdDelay = 2 * time.Second

// heldName reports whether name looks like rsync's temporary file: a dot,
// the final name, a dot and six characters of mkstemp.
func heldName(name string) bool {
	rest, ok := strings.CutPrefix(name, ".")
	if !ok {
		return false
	}
	i := strings.LastIndexByte(rest, '.')
	if i < 1 || len(rest)-i-1 != 6 {
		return false
	}
	for _, c := range rest[i+1:] {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// holds tracks the files whose upload waits for a rename, so that
// unmount can send them.
type holds struct {
	mu    sync.Mutex
	files map[*fileNode]*localFile // guarded by mu
}

func (h *holds) add(f *fileNode, l *localFile) {
	h.mu.Lock()
	if h.files == nil {
		h.files = map[*fileNode]*localFile{}
	}
	h.files[f] = l
	h.mu.Unlock()
}

func (h *holds) remove(f *fileNode, l *localFile) {
	h.mu.Lock()
	if h.files[f] == l {
		delete(h.files, f)
	}
	h.mu.Unlock()
}

// flush uploads every held file now (unmount).
func (h *holds) flush(ctx context.Context) {
	h.mu.Lock()
	files := make(map[*fileNode]*localFile, len(h.files))
	for f, l := range h.files {
		files[f] = l
	}
	h.mu.Unlock()
	for f, l := range files {
		f.uploadHeld(ctx, l)
	}
}

// hold decides at close (flush) whether the upload of l waits for a
// rename; it records where the file goes, so that a crash loses nothing.
func (f *fileNode) hold(l *localFile) bool {
	prefix, name := f.key()
	if !heldName(name) {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.broken != 0 || l.gone || !l.dirty {
		return false // upload reports or skips these at once
	}
	l.held = true
	if err := l.spool.keep(l.f, f.remote.Name, prefix+name, l.mtime, false); err != nil {
		f.fsys.log.Warn("cannot record where a spool file goes", "spool_file", l.f.Name(), "err", err)
	}
	return true
}

// armHeldLocked starts the wait for a rename once the last handle of a
// held file is closed; it reports whether the file stays staged.
// LOCKS_REQUIRED(f.mu, l.mu)
func (f *fileNode) armHeldLocked(l *localFile) bool {
	if !l.held || !l.dirty || l.broken != 0 || l.gone {
		return false
	}
	if l.timer != nil {
		l.timer.Stop()
	}
	l.timer = time.AfterFunc(holdDelay, func() { f.uploadHeld(f.fsys.ctx, l) })
	f.fsys.held.add(f, l)
	return true
}

// takeHeld claims the held, closed file l for its one upload.
func (f *fileNode) takeHeld(l *localFile) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.local != l || l.refs > 0 {
		return false // open again: its next close decides
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held {
		return false
	}
	l.held = false
	if l.timer != nil {
		l.timer.Stop()
	}
	f.fsys.held.remove(f, l)
	return true
}

// uploadHeld uploads a held file under its current name, when no rename
// came in time (or at unmount).
func (f *fileNode) uploadHeld(ctx context.Context, l *localFile) {
	if !f.takeHeld(l) {
		return
	}
	prefix, name := f.key()
	_ = f.upload(ctx, l, prefix, name) // logged there
	f.releaseIdle(l)
}

// renameHeld uploads the held file l straight to its new key, as its
// rename; it reports false when l is not a held, closed file (the rename
// is then local only).
func (f *fileNode) renameHeld(ctx context.Context, l *localFile, prefix, name string) (bool, syscall.Errno) {
	if !f.takeHeld(l) {
		return false, 0
	}
	errno := f.upload(ctx, l, prefix, name)
	if errno == 0 {
		f.moveTo(prefix, name, prefix+name)
	}
	f.releaseIdle(l)
	return true, errno
}

// releaseIdle drops the staged content of a file nobody has open.
func (f *fileNode) releaseIdle(l *localFile) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.local != l || l.refs > 0 {
		return
	}
	f.local = nil
	l.mu.Lock()
	defer l.mu.Unlock()
	f.closeLocalLocked(l)
}

// closeLocalLocked ends the staging of l after its last close: removed
// from the spool, unless its upload failed: then it stays for the next
// mount to resume.
// LOCKS_REQUIRED(l.mu)
func (f *fileNode) closeLocalLocked(l *localFile) {
	if l.dirty && l.broken == 0 && !l.gone {
		f.fsys.log.Error("file closed without a successful upload; kept in the spool, the next mount uploads it",
			"path", f.path(), "spool_file", l.f.Name())
		_ = l.f.Close()
		return
	}
	l.discardLocked()
}
