package main

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/earthmount/earthmount/cmd/earthmount/config"
)

// looseFile is a file holding credentials that group or others can read.
type looseFile struct {
	path string
	what string
	mode fs.FileMode
}

// credentialFiles names the files the remotes read credentials from: the
// config file, ~/.aws/credentials (or $AWS_SHARED_CREDENTIALS_FILE) when
// an S3 remote has no keys of its own, and icoscp_core's file of an ICOS
// remote. Files that do not exist are left out later.
func credentialFiles(cfg *config.Config, remotes []*config.Remote, getenv func(string) string) map[string]string {
	files := map[string]string{}
	if cfg.Path != "" {
		files[cfg.Path] = "config file"
	}
	for _, r := range remotes {
		switch {
		case r.S3 != nil && !r.S3.Anonymous && r.S3.AccessKeyID == "" && r.S3.CredentialsFrom == "":
			p := getenv("AWS_SHARED_CREDENTIALS_FILE")
			if p == "" && getenv("HOME") != "" {
				p = filepath.Join(getenv("HOME"), ".aws", "credentials")
			}
			if p != "" {
				files[p] = "AWS shared credentials file"
			}
		case r.ICOS != nil:
			if p, err := icosCredentialsPath(r.ICOS.CredentialsFile, getenv); err == nil && p != "" {
				files[p] = "icoscp_core credentials file"
			}
		}
	}
	return files
}

// loosePerms returns the files that exist and are readable by group or
// others.
func loosePerms(files map[string]string) []looseFile {
	var out []looseFile
	for p, what := range files {
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if fi.Mode().Perm()&0o044 != 0 {
			out = append(out, looseFile{path: p, what: what, mode: fi.Mode().Perm()})
		}
	}
	return out
}

// warnLoosePerms logs one warning per credential file others can read.
func warnLoosePerms(log *slog.Logger, cfg *config.Config, remotes []*config.Remote, getenv func(string) string) {
	for _, f := range loosePerms(credentialFiles(cfg, remotes, getenv)) {
		log.Warn(f.what+" holds credentials and is readable by group or others; run chmod 600 on it",
			"file", f.path, "mode", fmt.Sprintf("%04o", f.mode))
	}
}
