package icos

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/earthmount/earthmount/backends"
)

const defaultLimit = 1000

// List implements backends.Store over the cached SPARQL listings.
// "objects/" lists nothing and sends nothing; "objects/<id>/" shows the
// one object of that id.
func (s *Store) List(ctx context.Context, req backends.ListRequest) (backends.ListPage, error) {
	if req.Prefix != "" && !strings.HasSuffix(req.Prefix, "/") {
		return backends.ListPage{}, s.fail("list", req.Prefix, backends.ErrNotExist, errors.New("prefix must end in /"), "")
	}
	limit := req.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	items, err := s.listItems(ctx, req.Prefix, req.Delimiter != "")
	if err != nil {
		return backends.ListPage{}, err
	}
	return page(items, req.Token, limit), nil
}

// LookupOnly reports whether prefix is a directory whose listing is not
// the list of its names: "objects/" lists nothing, yet every object id
// is found in it. cache.Meta asks, so that it never answers "no such
// file" there from the (empty) listing.
func (s *Store) LookupOnly(prefix string) bool {
	return prefix == objectsDir+"/"
}

// item is one key of a listing; dir items end in "/".
type item struct {
	key string
	f   *file
}

// page cuts the items after token into one page of at most limit.
func page(items []item, token string, limit int) backends.ListPage {
	i := sort.Search(len(items), func(i int) bool { return items[i].key > token })
	var p backends.ListPage
	for ; i < len(items) && len(p.Objects)+len(p.Prefixes) < limit; i++ {
		it := items[i]
		if it.f == nil {
			p.Prefixes = append(p.Prefixes, it.key)
		} else {
			p.Objects = append(p.Objects, info(it.key, it.f))
		}
	}
	if i < len(items) {
		p.Next = items[i-1].key
	}
	return p
}

func info(key string, f *file) backends.ObjectInfo {
	return backends.ObjectInfo{Key: key, Size: f.size, ModTime: f.mod, Version: f.id}
}

// listItems returns every item of a listing, sorted by key.
func (s *Store) listItems(ctx context.Context, prefix string, delim bool) ([]item, error) {
	if prefix == "" {
		return s.listRoot(ctx, delim)
	}
	top, rest, _ := strings.Cut(prefix, "/")
	if top == objectsDir {
		return s.listObjectsDir(ctx, rest)
	}
	t, err := s.treeOf(ctx, top, prefix)
	if err != nil {
		return nil, err
	}
	return treeItems(t, top+"/", rest, delim), nil
}

// treeItems lists the directory sub ("" or "<station>/") of a data type.
func treeItems(t *tree, base, sub string, delim bool) []item {
	var out []item
	if delim {
		for _, e := range t.dirs[sub] {
			out = append(out, item{key: base + e.rel, f: e.f})
		}
		return out
	}
	i := sort.SearchStrings(t.flat, sub)
	for ; i < len(t.flat) && strings.HasPrefix(t.flat[i], sub); i++ {
		out = append(out, item{key: base + t.flat[i], f: t.files[t.flat[i]]})
	}
	return out
}

// listRoot lists the data types and "objects/", or flat every object of
// every data type (a query per type: only the contract suite asks).
func (s *Store) listRoot(ctx context.Context, delim bool) ([]item, error) {
	types, err := s.listTypes(ctx)
	if err != nil {
		return nil, s.fail("list", "", kindOf(err), err, "")
	}
	dirs := make([]string, 0, len(types)+1)
	for _, t := range types {
		dirs = append(dirs, t+"/")
	}
	if delim {
		dirs = append(dirs, objectsDir+"/")
	}
	sort.Strings(dirs)
	var out []item
	for _, d := range dirs {
		if delim {
			out = append(out, item{key: d})
			continue
		}
		t, err := s.treeOf(ctx, strings.TrimSuffix(d, "/"), d)
		if err != nil {
			return nil, err
		}
		out = append(out, treeItems(t, d, "", false)...)
	}
	return out, nil
}

// listObjectsDir lists below "objects/": nothing at its top, the one
// object in "<id>/".
func (s *Store) listObjectsDir(ctx context.Context, rest string) ([]item, error) {
	idText, after, _ := strings.Cut(rest, "/")
	if idText == "" || after != "" {
		return nil, nil
	}
	id, err := ParseID(idText)
	if err != nil {
		return nil, nil
	}
	f, err := s.objectByID(ctx, id)
	if err != nil {
		return nil, s.fail("list", objectsDir+"/"+rest, kindOf(err), err, "")
	}
	if f == nil {
		return nil, nil
	}
	return []item{{key: objectsDir + "/" + rest + f.name, f: f}}, nil
}

// treeOf returns the tree of the data type called name; ErrNotExist when
// there is no such data type.
func (s *Store) treeOf(ctx context.Context, name, key string) (*tree, error) {
	types, err := s.listTypes(ctx)
	if err != nil {
		return nil, s.fail("list", key, kindOf(err), err, "")
	}
	if i := sort.SearchStrings(types, name); i == len(types) || types[i] != name {
		return nil, s.fail("list", key, backends.ErrNotExist, fmt.Errorf("no data type %q", name), "")
	}
	t, err := s.typeTree(ctx, name)
	if err != nil {
		return nil, s.fail("list", key, kindOf(err), err, "")
	}
	return t, nil
}

// Stat implements backends.Store from the cached listings.
func (s *Store) Stat(ctx context.Context, key string) (backends.ObjectInfo, error) {
	f, err := s.resolve(ctx, "stat", key)
	if err != nil {
		return backends.ObjectInfo{}, err
	}
	return info(key, f), nil
}

// resolve finds the file named by key.
func (s *Store) resolve(ctx context.Context, op, key string) (*file, error) {
	notExist := s.fail(op, key, backends.ErrNotExist, errors.New("no such object"), "")
	parts := strings.Split(key, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[len(parts)-1] == "" {
		return nil, notExist
	}
	if parts[0] == objectsDir {
		if len(parts) != 3 {
			return nil, notExist
		}
		id, err := ParseID(parts[1])
		if err != nil {
			return nil, notExist
		}
		f, err := s.objectByID(ctx, id)
		if err != nil {
			return nil, s.fail(op, key, kindOf(err), err, "")
		}
		if f == nil || f.name != parts[2] {
			return nil, notExist
		}
		return f, nil
	}
	t, err := s.treeOf(ctx, parts[0], key)
	if err != nil {
		return nil, err
	}
	if f := t.files[strings.Join(parts[1:], "/")]; f != nil {
		return f, nil
	}
	return nil, notExist
}

// kindOf is the backends kind of a metadata error (ErrUnavailable when
// it has none, such as a 400 for a query the portal did not accept).
func kindOf(err error) error {
	for _, k := range []error{backends.ErrThrottled, backends.ErrUnavailable, backends.ErrNotExist} {
		if errors.Is(err, k) {
			return k
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return backends.ErrUnavailable
}
