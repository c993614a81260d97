// Package config reads earthmount's YAML configuration: where the file is,
// what its keys mean, the built-in defaults for the real OSN endpoint, and
// validation whose every error names the offending key.
//
// The keys are a public interface: tests outside this repository use them.
package config
