package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/earthmount/earthmount/integration/testenv"
)

// mountEarthmount mounts the bucket writable and returns the bucket's
// directory in the mount and a function that unmounts it.
func (b *bench) mountEarthmount(ctx context.Context, bin, name string) (string, func(), error) {
	dir := filepath.Join(b.work, name)
	mnt := filepath.Join(dir, "mnt")
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		return "", nil, err
	}
	writable := false
	rw := b.versity.Remote("upload")
	rw.ReadOnly = &writable
	cfg := testenv.Config{
		Cache:   testenv.CacheConfig{Spool: filepath.Join(dir, "spool"), SpoolSize: fmt.Sprintf("%dMiB", b.opts.big>>20+1024)},
		Remotes: map[string]testenv.RemoteConfig{"em": rw},
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := cfg.Write(cfgPath); err != nil {
		return "", nil, err
	}
	m, err := testenv.StartMount(ctx, testenv.MountOptions{
		Binary: bin, Config: cfgPath, Target: "em", Mountpoint: mnt, LogPath: filepath.Join(dir, "earthmount.log"),
	})
	if err != nil {
		return "", nil, err
	}
	return filepath.Join(mnt, "upload"), func() { _ = m.Close() }, nil
}

// earthmount measures cp, rsync -a and a second rsync -a through one
// mount, and a second rsync -a through a fresh mount.
func (b *bench) earthmount(ctx context.Context) error {
	bin, err := testenv.BuildEarthmount(ctx, b.work)
	if err != nil {
		return err
	}
	root, unmount, err := b.mountEarthmount(ctx, bin, "em1")
	if err != nil {
		return err
	}
	defer unmount()
	for _, d := range []string{"em-cp", "em-rs"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	big := filepath.Join(b.bigDir(), "big.bin")
	runs := []struct {
		row, workload, prefix string
		want                  int
		f                     func() error
	}{
		{"earthmount cp", wBig, "em-cp/big.bin", 1, func() error {
			return command(ctx, "", nil, "cp", big, filepath.Join(root, "em-cp", "big.bin"))
		}},
		{"earthmount cp", wZarr, "em-cp/my.zarr/", b.zarrFiles(), func() error {
			return command(ctx, "", nil, "cp", "-r", filepath.Join(b.zarrDir(), "my.zarr"), filepath.Join(root, "em-cp", "my.zarr"))
		}},
		{"earthmount rsync -a", wBig, "em-rs/big/", 1, func() error {
			_, err := rsyncStats(ctx, b.bigDir()+"/", filepath.Join(root, "em-rs", "big")+"/")
			return err
		}},
		{"earthmount rsync -a", wZarr, "em-rs/zarr/", b.zarrFiles(), func() error {
			_, err := rsyncStats(ctx, b.zarrDir()+"/", filepath.Join(root, "em-rs", "zarr")+"/")
			return err
		}},
	}
	for _, r := range runs {
		took, err := timed(r.f)
		if err == nil {
			err = b.check(ctx, r.prefix, r.want)
		}
		b.res.add(r.row, r.workload, took, err)
	}
	second := func(row, root string) {
		for _, w := range []struct{ workload, src, dst string }{
			{wBig, b.bigDir(), "big"}, {wZarr, b.zarrDir(), "zarr"},
		} {
			var sent string
			took, err := timed(func() error {
				var err error
				sent, err = rsyncStats(ctx, w.src+"/", filepath.Join(root, "em-rs", w.dst)+"/")
				return err
			})
			if err == nil && sent != "0" {
				err = fmt.Errorf("sent %s files", sent)
			}
			b.res.addSecond(row, w.workload, took, err)
		}
	}
	second("earthmount rsync -a, same mount", root)
	unmount()
	fresh, unmountFresh, err := b.mountEarthmount(ctx, bin, "em2")
	if err != nil {
		return err
	}
	defer unmountFresh()
	second("earthmount rsync -a, fresh mount", fresh)
	return nil
}

// sdk uploads both workloads with aws-sdk-go-v2's manager.Uploader at its
// defaults; the small files 16 at a time.
func (b *bench) sdk(ctx context.Context) error {
	up := manager.NewUploader(b.versity.Client())
	put := func(key, path string) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String("upload"), Key: aws.String(key), Body: f})
		return err
	}
	took, err := timed(func() error { return put("sdk/big/big.bin", filepath.Join(b.bigDir(), "big.bin")) })
	if err == nil {
		err = b.check(ctx, "sdk/big/", 1)
	}
	b.res.add("aws-sdk-go-v2 manager", wBig, took, err)
	var files []string
	if err := filepath.WalkDir(b.zarrDir(), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	}); err != nil {
		return err
	}
	took, err = timed(func() error {
		var g errgroup.Group
		g.SetLimit(16)
		for _, p := range files {
			g.Go(func() error {
				return put("sdk/zarr/"+strings.TrimPrefix(p, b.zarrDir()+"/"), p)
			})
		}
		return g.Wait()
	})
	if err == nil {
		err = b.check(ctx, "sdk/zarr/", b.zarrFiles())
	}
	b.res.add("aws-sdk-go-v2 manager", wZarr, took, err)
	return nil
}

// rclone copies both workloads with Debian's rclone copy at its defaults,
// then copies the Zarr store again (nothing to send). testenv.Env drops
// AWS_CA_BUNDLE, which rclone 1.60 cannot load.
func (b *bench) rclone(ctx context.Context) error {
	empty := filepath.Join(b.work, "rclone.conf")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		return err
	}
	ep := b.versity.S3Endpoint
	env := []string{
		"RCLONE_CONFIG=" + empty,
		"RCLONE_CONFIG_BENCH_TYPE=s3",
		"RCLONE_CONFIG_BENCH_PROVIDER=Other",
		"RCLONE_CONFIG_BENCH_ENDPOINT=" + ep.URL,
		"RCLONE_CONFIG_BENCH_REGION=" + ep.Region,
		"RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=" + ep.AccessKey,
		"RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=" + ep.SecretKey,
		"RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true",
	}
	home := filepath.Join(b.work, "rclone-home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return err
	}
	rc := func(src, dst string) error {
		return command(ctx, home, env, "rclone", "copy", src, "bench:upload/"+dst)
	}
	took, err := timed(func() error { return rc(b.bigDir(), "rclone/big") })
	if err == nil {
		err = b.check(ctx, "rclone/big/", 1)
	}
	b.res.add("rclone copy", wBig, took, err)
	took, err = timed(func() error { return rc(b.zarrDir(), "rclone/zarr") })
	if err == nil {
		err = b.check(ctx, "rclone/zarr/", b.zarrFiles())
	}
	b.res.add("rclone copy", wZarr, took, err)
	for _, w := range []struct{ workload, src, dst string }{{wBig, b.bigDir(), "rclone/big"}, {wZarr, b.zarrDir(), "rclone/zarr"}} {
		took, err = timed(func() error { return rc(w.src, w.dst) })
		b.res.addSecond("rclone copy", w.workload, took, err)
	}
	return nil
}
