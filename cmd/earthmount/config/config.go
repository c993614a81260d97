package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Config is the whole configuration.
type Config struct {
	// Path is the file it was read from, or "" for the built-in defaults.
	Path    string
	Cache   Cache
	Remotes []Remote // in file order
}

// Cache configures the one byte budget and the metadata lifetimes.
type Cache struct {
	Memory      int64         // cache.memory: cached chunks plus read-ahead
	ChunkSize   int64         // cache.chunk_size: 0 means the built-in default
	DirTTL      time.Duration // cache.dir_ttl: how long a listing is trusted
	AttrTTL     time.Duration // cache.attr_ttl: kernel entry/attribute cache
	NegativeTTL time.Duration // cache.negative_ttl: "no such file" answers
	Spool       string        // cache.spool: staging directory of writes; "" -> DefaultSpoolDir
	SpoolSize   int64         // cache.spool_size: cap on staged bytes; 0 -> DefaultSpoolSize
	Dir         string        // cache.dir: disk tier directory; "" -> DefaultDiskDir
	Disk        int64         // cache.disk: disk tier size cap; 0 -> no disk tier
}

// DefaultDiskDir is $XDG_CACHE_HOME/earthmount/blocks, else
// ~/.cache/earthmount/blocks.
func DefaultDiskDir(getenv func(string) string) string {
	return filepath.Join(filepath.Dir(DefaultSpoolDir(getenv)), "blocks")
}

// DefaultSpoolSize caps the bytes staged for upload (files being written
// plus failed uploads kept for the user).
const DefaultSpoolSize = 20 << 30

// DefaultSpoolDir is $XDG_CACHE_HOME/earthmount/spool, else
// ~/.cache/earthmount/spool.
func DefaultSpoolDir(getenv func(string) string) string {
	dir := getenv("XDG_CACHE_HOME")
	if dir == "" {
		dir = filepath.Join(getenv("HOME"), ".cache")
	}
	return filepath.Join(dir, "earthmount", "spool")
}

// Remote is one configured remote: a name, a store type, and the settings
// of that type (only the one matching Type is set).
type Remote struct {
	Name  string
	Type  string // "s3", "swift", "icos"
	S3    *S3
	Swift *Swift
	ICOS  *ICOS
}

// Endpoint is the remote's main URL, for messages.
func (r *Remote) Endpoint() string {
	switch {
	case r.S3 != nil:
		return r.S3.Endpoint
	case r.Swift != nil:
		return r.Swift.Endpoint()
	case r.ICOS != nil:
		return r.ICOS.DataURL
	}
	return ""
}

// Defaults.
const (
	DefaultMemory      = 512 << 20
	DefaultDirTTL      = 5 * time.Minute
	DefaultAttrTTL     = time.Minute
	DefaultNegativeTTL = 30 * time.Second
	DefaultRegion      = "us-east-1"
)

// Builtin is the configuration used when there is no file: the OSN pod
// that hosts LEAP's public buckets, read anonymously unless AWS
// credentials are found the usual way; and, when OS_AUTH_URL is set, the
// pangeo-eosc remotes eosc (Swift) and eosc-s3 (see builtinEOSC); and the
// ICOS Carbon Portal as "icos" (see builtinICOS).
func Builtin(getenv func(string) string) *Config {
	cfg := &Config{
		Cache: Cache{Memory: DefaultMemory, DirTTL: DefaultDirTTL, AttrTTL: DefaultAttrTTL, NegativeTTL: DefaultNegativeTTL},
		Remotes: []Remote{{
			Name: "osn",
			Type: "s3",
			S3: &S3{
				Endpoint: "https://nyu1.osn.mghpcc.org",
				Region:   DefaultRegion,
				Buckets:  []string{"leap-pangeo-inbox", "leap-pangeo-manual", "leap-pangeo-pipeline"},
			},
		}},
	}
	cfg.Remotes = append(cfg.Remotes, builtinEOSC(getenv)...)
	cfg.Remotes = append(cfg.Remotes, builtinICOS())
	return cfg
}

// Locate returns the config file to read: flag, else $EARTHMOUNT_CONFIG,
// else $XDG_CONFIG_HOME/earthmount/config.yaml (~/.config/... when unset).
// explicit reports whether the user named the file, in which case it must
// exist.
func Locate(flag string, getenv func(string) string) (path string, explicit bool) {
	if flag != "" {
		return flag, true
	}
	if p := getenv("EARTHMOUNT_CONFIG"); p != "" {
		return p, true
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			return "", false
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "earthmount", "config.yaml"), false
}

// Load reads the configuration that Locate names, or the built-in one when
// there is no file and none was asked for.
func Load(flag string, getenv func(string) string) (*Config, error) {
	path, explicit := Locate(flag, getenv)
	if path == "" {
		return Builtin(getenv), nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return Builtin(getenv), nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if err := cfg.Resolve(getenv); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	cfg.Path = path
	return cfg, nil
}

// Remote returns the remote called name.
func (c *Config) Remote(name string) (*Remote, bool) {
	for i := range c.Remotes {
		if c.Remotes[i].Name == name {
			return &c.Remotes[i], true
		}
	}
	return nil, false
}
