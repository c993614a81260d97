package testenv

import (
	"fmt"
	"os"

	"gopkg.in/yaml.v3"
)

// Config is earthmount's config file as the README documents it. Empty
// fields are left out, so earthmount's defaults apply.
type Config struct {
	Cache   CacheConfig             `yaml:"cache,omitempty"`
	Remotes map[string]RemoteConfig `yaml:"remotes"`
}

// CacheConfig is the cache: section; sizes and durations as strings
// ("256MiB", "5m").
type CacheConfig struct {
	Memory      string `yaml:"memory,omitempty"`
	ChunkSize   string `yaml:"chunk_size,omitempty"`
	DirTTL      string `yaml:"dir_ttl,omitempty"`
	AttrTTL     string `yaml:"attr_ttl,omitempty"`
	NegativeTTL string `yaml:"negative_ttl,omitempty"`
	Spool       string `yaml:"spool,omitempty"`
	SpoolSize   string `yaml:"spool_size,omitempty"`
}

// RemoteConfig is one entry of remotes:.
type RemoteConfig struct {
	Type            string   `yaml:"type"`
	Endpoint        string   `yaml:"endpoint,omitempty"`
	Region          string   `yaml:"region,omitempty"`
	Buckets         []string `yaml:"buckets,omitempty"`
	Profile         string   `yaml:"profile,omitempty"`
	AccessKeyID     string   `yaml:"access_key_id,omitempty"`
	SecretAccessKey string   `yaml:"secret_access_key,omitempty"`
	Anonymous       bool     `yaml:"anonymous,omitempty"`
	ReadOnly        *bool    `yaml:"read_only,omitempty"` // nil: earthmount's default (true)
}

// Write writes the config as YAML to path, readable only by its owner
// (it holds keys).
func (c Config) Write(path string) error {
	b, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}
