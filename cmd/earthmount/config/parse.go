package config

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// remoteName is what a remote may be called: it becomes a directory name
// and the REMOTE of REMOTE:PATH.
var remoteName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// Parse reads a configuration document. Every error names the key.
func Parse(data []byte) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	cfg := Builtin(func(string) string { return "" })
	cfg.Remotes = nil
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, fmt.Errorf("the file is empty: it needs at least a remotes: section")
	}
	top := doc.Content[0]
	err := eachKey(top, "", []string{"cache", "remotes"}, func(key string, v *yaml.Node) error {
		switch key {
		case "cache":
			return parseCache(v, &cfg.Cache)
		default:
			return parseRemotes(v, cfg)
		}
	})
	if err != nil {
		return nil, err
	}
	if len(cfg.Remotes) == 0 {
		return nil, fmt.Errorf("remotes: no remote configured")
	}
	return cfg, nil
}

func parseCache(n *yaml.Node, c *Cache) error {
	return eachKey(n, "cache", []string{"memory", "chunk_size", "dir_ttl", "attr_ttl", "negative_ttl", "spool", "spool_size", "dir", "disk"}, func(key string, v *yaml.Node) error {
		where := "cache." + key
		switch key {
		case "dir":
			s, err := scalar(v, where)
			c.Dir = s
			return err
		case "disk":
			// The disk tier's size cap; 0 (the default) turns it off.
			s, err := scalar(v, where)
			if err != nil {
				return err
			}
			if c.Disk, err = ParseSize(s); err != nil || (c.Disk != 0 && c.Disk < 64<<20) {
				return fmt.Errorf("line %d: %s: %q is not 0 (off) or a size of at least 64MiB", v.Line, where, s)
			}
			return nil
		case "spool":
			s, err := scalar(v, where)
			c.Spool = s
			return err
		case "spool_size":
			s, err := scalar(v, where)
			if err != nil {
				return err
			}
			if c.SpoolSize, err = ParseSize(s); err != nil || c.SpoolSize < 1<<20 {
				return fmt.Errorf("line %d: %s: %q is not a size of at least 1MiB", v.Line, where, s)
			}
			return nil
		case "memory", "chunk_size":
			s, err := scalar(v, where)
			if err != nil {
				return err
			}
			size, err := ParseSize(s)
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			if key == "memory" {
				if size < 16<<20 {
					return fmt.Errorf("%s: %s is too small (at least 16MiB)", where, s)
				}
				c.Memory = size
			} else {
				if size < 64<<10 || size > 256<<20 {
					return fmt.Errorf("%s: %s is outside 64KiB..256MiB", where, s)
				}
				c.ChunkSize = size
			}
		default:
			d, err := duration(v, where)
			if err != nil {
				return err
			}
			switch key {
			case "dir_ttl":
				c.DirTTL = d
			case "attr_ttl":
				c.AttrTTL = d
			default:
				c.NegativeTTL = d
			}
		}
		return nil
	})
}

func parseRemotes(n *yaml.Node, cfg *Config) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: remotes: must be a mapping of remote names to settings", n.Line)
	}
	return eachKey(n, "remotes", nil, func(name string, v *yaml.Node) error {
		where := "remotes." + name
		if !remoteName.MatchString(name) {
			return fmt.Errorf("line %d: %s: a remote name uses letters, digits, '_', '-' and '.'", v.Line, where)
		}
		if v.Kind != yaml.MappingNode {
			return fmt.Errorf("line %d: %s: must be a mapping of keys to values", v.Line, where)
		}
		r := Remote{Name: name}
		for i := 0; i+1 < len(v.Content); i += 2 {
			if v.Content[i].Value == "type" {
				t, err := scalar(v.Content[i+1], where+".type")
				if err != nil {
					return err
				}
				r.Type = t
			}
		}
		var err error
		switch r.Type {
		case "s3":
			r.S3, err = parseS3(v, where)
		case "swift":
			r.Swift, err = parseSwift(v, where)
		case "icos":
			r.ICOS, err = parseICOS(v, where)
		case "":
			return fmt.Errorf("line %d: %s.type: missing (use type: s3)", v.Line, where)
		default:
			return fmt.Errorf("line %d: %s.type: unknown store type %q (supported: s3, swift, icos)", v.Line, where, r.Type)
		}
		if err != nil {
			return err
		}
		cfg.Remotes = append(cfg.Remotes, r)
		return nil
	})
}

// eachKey calls fn for each key of mapping n, in file order. With known
// set, any other key is an error that lists the known ones.
func eachKey(n *yaml.Node, where string, known []string, fn func(key string, v *yaml.Node) error) error {
	label := where
	if label == "" {
		label = "top level"
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: %s: must be a mapping of keys to values", n.Line, label)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		full := key
		if where != "" {
			full = where + "." + key
		}
		if known != nil && !contains(known, key) {
			sorted := append([]string(nil), known...)
			sort.Strings(sorted)
			return fmt.Errorf("line %d: %s: unknown key (known keys: %s)", k.Line, full, strings.Join(sorted, ", "))
		}
		if seen[key] {
			return fmt.Errorf("line %d: %s: key given twice", k.Line, full)
		}
		seen[key] = true
		if err := fn(key, v); err != nil {
			return err
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func scalar(n *yaml.Node, where string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("line %d: %s: must be a single value", n.Line, where)
	}
	return n.Value, nil
}

func boolean(n *yaml.Node, where string) (bool, error) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		return false, fmt.Errorf("line %d: %s: must be true or false", n.Line, where)
	}
	return b, nil
}

func duration(n *yaml.Node, where string) (time.Duration, error) {
	s, err := scalar(n, where)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("line %d: %s: %q is not a duration such as 30s, 5m or 1h", n.Line, where, s)
	}
	return d, nil
}

func stringList(n *yaml.Node, where string) ([]string, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("line %d: %s: must be a list, such as [a, b]", n.Line, where)
	}
	out := make([]string, 0, len(n.Content))
	for i, e := range n.Content {
		s, err := scalar(e, fmt.Sprintf("%s[%d]", where, i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
