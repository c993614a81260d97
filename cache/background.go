package cache

import (
	"context"

	"github.com/earthmount/earthmount/backends"
)

// background runs fn on its own goroutine under the cache's context, so
// that Close cancels it and waits for it; after Close it does nothing.
func (c *Cache) background(fn func(ctx context.Context)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx.Err() != nil {
		return
	}
	c.wg.Add(1) // under mu, as for fetches: Close cannot miss it
	go func() {
		defer c.wg.Done()
		fn(c.ctx)
	}()
}

// prefetchChunk starts a read-ahead fetch of chunk idx of obj (the whole
// object when it fits one chunk) under the cache's context, unless it is
// cached or in flight. The fetch is keyed like a Reader's, so a later Open
// of the same version finds it. Unversioned objects are never fetched
// this way: their chunks belong to one Reader.
func (c *Cache) prefetchChunk(src Source, remote string, obj backends.ObjectInfo, idx int64) prefetchResult {
	bs := c.blockSize(obj)
	if obj.Version == "" || obj.Size <= 0 || idx < 0 || idx*bs >= obj.Size {
		return prefetchPresent
	}
	r := &Reader{c: c, src: src, remote: remote, obj: obj, ctx: c.ctx, bs: bs}
	return c.tryPrefetch(r, bs, idx, 1)
}
