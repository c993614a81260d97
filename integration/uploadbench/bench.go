package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/earthmount/earthmount/integration/testenv"
)

type bench struct {
	opts    options
	work    string
	versity *testenv.Versity
	res     *results
}

// src paths of the two workloads: directories whose content is copied.
func (b *bench) bigDir() string  { return filepath.Join(b.work, "src", "big") }
func (b *bench) zarrDir() string { return filepath.Join(b.work, "src", "zarr") }

// fixtures writes the big file and the Zarr store, with an old mtime.
func (b *bench) fixtures() error {
	mtime := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	if err := os.MkdirAll(b.bigDir(), 0o755); err != nil {
		return err
	}
	big := filepath.Join(b.bigDir(), "big.bin")
	f, err := os.Create(big)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, rand.NewChaCha8([32]byte{7}), b.opts.big); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	files := map[string][]byte{
		"my.zarr/.zgroup":     []byte(`{"zarr_format": 2}`),
		"my.zarr/t2m/.zarray": []byte(`{"zarr_format": 2, "note": "upload benchmark"}`),
	}
	rng := rand.NewChaCha8([32]byte{8})
	for i := range b.opts.files {
		data := make([]byte, b.opts.size)
		_, _ = rng.Read(data)
		files[fmt.Sprintf("my.zarr/t2m/%d.%d", i/100, i%100)] = data
	}
	for rel, data := range files {
		p := filepath.Join(b.zarrDir(), rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return filepath.Walk(filepath.Join(b.work, "src"), func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, mtime, mtime)
	})
}

// zarrFiles is the number of files in the Zarr store.
func (b *bench) zarrFiles() int { return b.opts.files + 2 }

// measure runs every tool on both workloads.
func (b *bench) measure(ctx context.Context) error {
	steps := []struct {
		name string
		f    func(context.Context) error
	}{
		{"earthmount", b.earthmount},
		{"aws-sdk-go-v2 manager", b.sdk},
		{"rclone copy", b.rclone},
	}
	for _, s := range steps {
		progress("measuring %s", s.name)
		if err := s.f(ctx); err != nil {
			b.res.note("%s: %v", s.name, err)
		}
	}
	return nil
}

// check counts the objects below prefix (markers left out) and compares
// them with the workload's file count.
func (b *bench) check(ctx context.Context, prefix string, want int) error {
	keys, err := b.versity.Keys(ctx, "upload")
	if err != nil {
		return err
	}
	n := 0
	for k := range keys {
		if strings.HasPrefix(k, prefix) && !strings.HasSuffix(k, "/") {
			n++
		}
	}
	if n != want {
		return fmt.Errorf("%s holds %d objects, want %d", prefix, n, want)
	}
	return nil
}

// command runs a program with the harness's environment plus extra.
func command(ctx context.Context, home string, extra []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = testenv.Env(home, extra...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// rsyncStats runs rsync -a --stats and reports how many files it sent.
func rsyncStats(ctx context.Context, src, dst string) (string, error) {
	out, err := exec.CommandContext(ctx, "rsync", "-a", "--stats", src, dst).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("rsync -a %s %s: %w\n%s", src, dst, err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "Number of regular files transferred: "); ok {
			return v, nil
		}
	}
	return "?", nil
}
