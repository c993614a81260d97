package testenv

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// VersityOptions configures StartVersity.
type VersityOptions struct {
	// Dir holds the data directory and the log; it must support user.*
	// xattrs (ext4 /tmp does).
	Dir string
	// Binary is versitygw's path; "" means VersityTool().Ensure.
	Binary string
	// AccessKey and SecretKey default to fixed test keys.
	AccessKey, SecretKey string
}

// Versity is a running versitygw with its posix backend.
type Versity struct {
	S3Endpoint
	DataDir string // every bucket is a directory in here
	proc    *Proc
}

// StartVersity starts versitygw on a free 127.0.0.1 port and waits until it
// answers S3 requests. Close stops it.
func StartVersity(ctx context.Context, opts VersityOptions) (*Versity, error) {
	bin := opts.Binary
	if bin == "" {
		var err error
		if bin, err = VersityTool().Ensure(ctx); err != nil {
			return nil, err
		}
	}
	if opts.AccessKey == "" {
		opts.AccessKey, opts.SecretKey = "earthmount-test", "earthmount-test-secret"
	}
	data := filepath.Join(opts.Dir, "versitygw-data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, fmt.Errorf("versitygw: %w", err)
	}
	var last error
	for range 3 { // a port taken between FreePort and bind: try another
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		v := &Versity{
			S3Endpoint: S3Endpoint{
				URL:    "http://127.0.0.1:" + strconv.Itoa(port),
				Region: "us-east-1", AccessKey: opts.AccessKey, SecretKey: opts.SecretKey,
			},
			DataDir: data,
		}
		v.proc, err = StartProc(ProcOptions{
			Name: "versitygw", Path: bin,
			// --keep-alive: without it every response closes the connection.
			Args: []string{
				"--access", opts.AccessKey, "--secret", opts.SecretKey,
				"--port", "127.0.0.1:" + strconv.Itoa(port), "--keep-alive",
				"posix", data,
			},
			Env:     Env(opts.Dir),
			LogPath: filepath.Join(opts.Dir, "versitygw.log"),
		})
		if err != nil {
			return nil, err
		}
		alive := func() error {
			if v.proc.Exited() {
				return fmt.Errorf("versitygw exited:\n%s", v.proc.Log(4096))
			}
			return nil
		}
		if last = waitS3(ctx, v.S3Endpoint, 30*time.Second, alive); last == nil {
			return v, nil
		}
		v.proc.Stop(5 * time.Second)
	}
	return nil, fmt.Errorf("start versitygw: %w", last)
}

// Close kills the server: its graceful shutdown waits seconds for idle
// keep-alive connections, and a test server has nothing to save. The data
// directory stays for the caller's temp dir cleanup.
func (v *Versity) Close() error { return v.proc.Stop(0) }

// Log returns the tail of the server's log.
func (v *Versity) Log() string { return v.proc.Log(3000) }

// WriteObject stores data as bucket/key straight into the data directory,
// with the user.etag xattr that versitygw's own PUT would have written (the
// quoted hex MD5), so the object has an ETag. This is much faster than PUT
// for thousands of fixtures. The bucket must exist (CreateBucket). It
// returns the ETag without quotes.
func (v *Versity) WriteObject(bucket, key string, data []byte) (string, error) {
	return v.WriteObjectFrom(bucket, key, strings.NewReader(string(data)))
}

// WriteObjectFrom is WriteObject for content streamed from r (large
// objects).
func (v *Versity) WriteObjectFrom(bucket, key string, r io.Reader) (string, error) {
	if key == "" || strings.HasSuffix(key, "/") || strings.Contains(key, "//") {
		return "", fmt.Errorf("write %s/%s: versitygw's posix backend cannot hold this key", bucket, key)
	}
	path := filepath.Join(v.DataDir, bucket, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("write %s/%s: %w", bucket, key, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return "", fmt.Errorf("write %s/%s: %w", bucket, key, err)
	}
	h := md5.New()
	_, err = io.Copy(io.MultiWriter(f, h), r)
	err = errors.Join(err, f.Close())
	if err != nil {
		return "", fmt.Errorf("write %s/%s: %w", bucket, key, err)
	}
	etag := hex.EncodeToString(h.Sum(nil))
	if err := unix.Setxattr(path, "user.etag", []byte(`"`+etag+`"`), 0); err != nil {
		return "", fmt.Errorf("write %s/%s: set user.etag: %w", bucket, key, err)
	}
	return etag, nil
}

// SetModTime sets the object's last-modified time (the file's mtime).
func (v *Versity) SetModTime(bucket, key string, t time.Time) error {
	path := filepath.Join(v.DataDir, bucket, filepath.FromSlash(key))
	return os.Chtimes(path, t, t)
}
