package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Zarr metadata: what the predictor needs of an array (its chunk grid and
// chunk-key form), parsed from the documents zarr-access.md §1 describes:
// v2 `.zarray` (+ `.zattrs` for dimension names) and consolidated
// `.zmetadata`; v3 `zarr.json`, arrays and groups, with inline
// consolidated metadata. Codecs, dtypes and fill values do not matter
// here: earthmount never decodes a chunk.

// zarrArray is one array of a store.
type zarrArray struct {
	path   string   // key prefix of the array's directory, ending in "/"
	grid   zgrid    // chunks (shards, when sharded) along each axis
	sep    string   // chunk-key separator: "." or "/"
	prefix string   // before the coordinates: "" (v2) or "c"+sep (v3 default)
	dims   []string // dimension names, when known
	// shardIndex is the size of a v3 shard's index, 0 if not sharded;
	// indexAtEnd says where it is.
	shardIndex int64
	indexAtEnd bool
}

// coordinate reports whether the array is a dimension coordinate, which
// xarray reads whole at open: 1-D and named like its dimension.
func (a *zarrArray) coordinate() bool {
	name := strings.TrimSuffix(a.path, "/")
	name = name[strings.LastIndexByte(name, '/')+1:]
	return len(a.grid) == 1 && len(a.dims) == 1 && a.dims[0] == name
}

// chunkOf parses rel, a key relative to the array's directory, as a chunk
// key and returns its C-order linear index.
func (a *zarrArray) chunkOf(rel string) (int64, bool) {
	rest, ok := strings.CutPrefix(rel, a.prefix)
	if !ok || len(a.grid) == 0 {
		return 0, false
	}
	parts := strings.Split(rest, a.sep)
	if len(parts) != len(a.grid) {
		return 0, false
	}
	c := make([]int64, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil || v < 0 || v >= a.grid[i] || strconv.FormatInt(v, 10) != p {
			return 0, false
		}
		c[i] = v
	}
	return a.grid.linear(c), true
}

// chunkKey returns the key, relative to the array's directory, of chunk l.
func (a *zarrArray) chunkKey(l int64) string {
	c := a.grid.coords(l)
	parts := make([]string, len(c))
	for i, v := range c {
		parts[i] = strconv.FormatInt(v, 10)
	}
	return a.prefix + strings.Join(parts, a.sep)
}

// gridOf returns ceil(shape/chunks) per axis.
func gridOf(shape, chunks []int64) (zgrid, error) {
	if len(shape) != len(chunks) {
		return nil, fmt.Errorf("shape %v and chunks %v differ in length", shape, chunks)
	}
	g := make(zgrid, len(shape))
	total := int64(1)
	for i := range shape {
		if chunks[i] <= 0 || shape[i] < 0 {
			return nil, fmt.Errorf("bad shape %v or chunks %v", shape, chunks)
		}
		g[i] = shape[i]/chunks[i] + min(shape[i]%chunks[i], 1) // ceil, without overflow
		if g[i] == 0 {
			g[i] = 1
		}
		// Chunk indexes are int64: a grid whose count overflows is a
		// broken document (found by FuzzZarrMeta).
		if total > math.MaxInt64/g[i] {
			return nil, fmt.Errorf("shape %v in chunks %v: too many chunks", shape, chunks)
		}
		total *= g[i]
	}
	return g, nil
}

type zarrayDoc struct {
	ZarrFormat int     `json:"zarr_format"`
	Shape      []int64 `json:"shape"`
	Chunks     []int64 `json:"chunks"`
	Separator  string  `json:"dimension_separator"`
}

type zattrsDoc struct {
	Dims []string `json:"_ARRAY_DIMENSIONS"`
}

// parseZarray parses a v2 .zarray of the array at path; attrs (a .zattrs,
// may be nil) gives the dimension names.
func parseZarray(path string, data, attrs []byte) (*zarrArray, error) {
	var d zarrayDoc
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("zarr: %s.zarray: %w", path, err)
	}
	if d.ZarrFormat != 2 {
		return nil, fmt.Errorf("zarr: %s.zarray: zarr_format %d", path, d.ZarrFormat)
	}
	g, err := gridOf(d.Shape, d.Chunks)
	if err != nil {
		return nil, fmt.Errorf("zarr: %s.zarray: %w", path, err)
	}
	a := &zarrArray{path: path, grid: g, sep: "."}
	if d.Separator == "/" {
		a.sep = "/"
	}
	if attrs != nil {
		var at zattrsDoc
		if json.Unmarshal(attrs, &at) == nil && len(at.Dims) == len(g) {
			a.dims = at.Dims
		}
	}
	return a, nil
}

// parseZmetadata parses v2 consolidated metadata of the store at root and
// returns every array it describes.
func parseZmetadata(root string, data []byte) ([]*zarrArray, error) {
	var doc struct {
		Format   int                        `json:"zarr_consolidated_format"`
		Metadata map[string]json.RawMessage `json:"metadata"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("zarr: %s.zmetadata: %w", root, err)
	}
	if doc.Format != 1 || doc.Metadata == nil {
		return nil, fmt.Errorf("zarr: %s.zmetadata: not consolidated metadata (format %d)", root, doc.Format)
	}
	var out []*zarrArray
	for key, raw := range doc.Metadata {
		dir, ok := strings.CutSuffix(key, ".zarray")
		if !ok || (dir != "" && !strings.HasSuffix(dir, "/")) {
			continue
		}
		a, err := parseZarray(root+dir, raw, doc.Metadata[dir+".zattrs"])
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

type zarrJSON struct {
	ZarrFormat int     `json:"zarr_format"`
	NodeType   string  `json:"node_type"`
	Shape      []int64 `json:"shape"`
	ChunkGrid  struct {
		Name   string `json:"name"`
		Config struct {
			ChunkShape []int64 `json:"chunk_shape"`
		} `json:"configuration"`
	} `json:"chunk_grid"`
	KeyEncoding struct {
		Name   string `json:"name"`
		Config struct {
			Separator string `json:"separator"`
		} `json:"configuration"`
	} `json:"chunk_key_encoding"`
	Codecs       []zarrCodec `json:"codecs"`
	Dims         []*string   `json:"dimension_names"`
	Consolidated *struct {
		Metadata map[string]json.RawMessage `json:"metadata"`
	} `json:"consolidated_metadata"`
}

type zarrCodec struct {
	Name   string `json:"name"`
	Config struct {
		ChunkShape    []int64     `json:"chunk_shape"`
		IndexCodecs   []zarrCodec `json:"index_codecs"`
		IndexLocation string      `json:"index_location"`
	} `json:"configuration"`
}

// parseZarrJSON parses a v3 zarr.json of the node at path. An array gives
// itself; a group with consolidated metadata gives every array in it.
func parseZarrJSON(path string, data []byte) ([]*zarrArray, error) {
	var d zarrJSON
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("zarr: %szarr.json: %w", path, err)
	}
	if d.ZarrFormat != 3 {
		return nil, fmt.Errorf("zarr: %szarr.json: zarr_format %d", path, d.ZarrFormat)
	}
	switch d.NodeType {
	case "array":
		a, err := d.array(path)
		if err != nil {
			return nil, fmt.Errorf("zarr: %szarr.json: %w", path, err)
		}
		return []*zarrArray{a}, nil
	case "group":
		if d.Consolidated == nil {
			return nil, nil
		}
		var out []*zarrArray
		for rel, raw := range d.Consolidated.Metadata {
			var child zarrJSON
			if json.Unmarshal(raw, &child) != nil || child.NodeType != "array" {
				continue
			}
			a, err := child.array(path + rel + "/")
			if err != nil {
				return nil, fmt.Errorf("zarr: %szarr.json: %s: %w", path, rel, err)
			}
			out = append(out, a)
		}
		return out, nil
	}
	return nil, fmt.Errorf("zarr: %szarr.json: node_type %q", path, d.NodeType)
}

// array builds the array a v3 array document describes.
func (d *zarrJSON) array(path string) (*zarrArray, error) {
	if d.ChunkGrid.Name != "regular" {
		return nil, fmt.Errorf("chunk grid %q", d.ChunkGrid.Name)
	}
	g, err := gridOf(d.Shape, d.ChunkGrid.Config.ChunkShape)
	if err != nil {
		return nil, err
	}
	a := &zarrArray{path: path, grid: g}
	sep := d.KeyEncoding.Config.Separator
	switch d.KeyEncoding.Name {
	case "default":
		a.sep = "/"
		if sep == "." {
			a.sep = "."
		}
		a.prefix = "c" + a.sep
	case "v2":
		a.sep = "."
		if sep == "/" {
			a.sep = "/"
		}
	default:
		return nil, fmt.Errorf("chunk key encoding %q", d.KeyEncoding.Name)
	}
	if len(g) == 0 {
		return nil, errors.New("0-d array")
	}
	for _, n := range d.Dims {
		if n == nil {
			a.dims = nil
			break
		}
		a.dims = append(a.dims, *n)
	}
	for _, c := range d.Codecs {
		if c.Name != "sharding_indexed" {
			continue
		}
		inner := c.Config.ChunkShape
		shard := d.ChunkGrid.Config.ChunkShape
		if len(inner) != len(shard) {
			return nil, fmt.Errorf("shard %v and inner chunk %v differ in length", shard, inner)
		}
		n := int64(1)
		for i := range inner {
			if inner[i] <= 0 || shard[i]%inner[i] != 0 {
				return nil, fmt.Errorf("inner chunk %v does not divide shard %v", inner, shard)
			}
			r := shard[i] / inner[i]
			if n > math.MaxInt64/32/r { // 16 bytes of index each
				return nil, fmt.Errorf("shard %v in chunks %v: too many inner chunks", shard, inner)
			}
			n *= r
		}
		a.shardIndex = 16 * n
		for _, ic := range c.Config.IndexCodecs {
			if ic.Name == "crc32c" {
				a.shardIndex += 4
			}
		}
		a.indexAtEnd = c.Config.IndexLocation != "start"
	}
	return a, nil
}
