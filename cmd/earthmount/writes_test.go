package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/earthmount/earthmount/backends/memstore"
	"github.com/earthmount/earthmount/cmd/earthmount/config"
	"github.com/earthmount/earthmount/fs"
)

func TestOpenSpool(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	rw := &config.Remote{Name: "rw", Type: "s3", S3: &config.S3{Writable: true}}
	ro := &config.Remote{Name: "ro", Type: "s3", S3: &config.S3{}}
	cfg := &config.Config{Cache: config.Cache{Spool: dir}}
	tests := []struct {
		name      string
		remotes   []*config.Remote
		wantSpool bool
	}{
		{"read-only remotes need no spool", []*config.Remote{ro}, false},
		{"a writable remote opens it", []*config.Remote{ro, rw}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp, err := openSpool(cfg, tt.remotes, func(string) string { return "" }, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			if (sp != nil) != tt.wantSpool {
				t.Fatalf("spool %v, want one: %v", sp, tt.wantSpool)
			}
		})
	}
}

// TestResumeSpool: a file whose upload failed (with its .target) is
// uploaded by the next mount of its remote; one left by a crash is
// reported and kept, and so is one still being written when earthmount
// was killed (partial: it may be incomplete).
func TestResumeSpool(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("upload-1", "resume me")
	write("upload-1.target", `{"remote":"rw","key":"b/f","mtime":"2024-01-02T03:04:05Z"}`)
	write("upload-2", "orphan")
	write("upload-3", "half a fi")
	write("upload-3.target", `{"remote":"rw","key":"b/half","mtime":"2024-01-02T03:04:05Z","partial":true}`)
	sp, err := fs.NewSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	st := memstore.New()
	var logs bytes.Buffer
	err = resumeSpool(t.Context(), sp, []fs.Remote{{Name: "rw", Writer: st}}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Stat(t.Context(), "b/f")
	if err != nil || info.Size != int64(len("resume me")) || info.ModTime.Unix() != 1704164645 {
		t.Errorf("resumed object: %+v, %v", info, err)
	}
	if _, err := st.Stat(t.Context(), "b/half"); err == nil {
		t.Errorf("a partial file was uploaded")
	}
	var names []string
	left, _ := os.ReadDir(dir)
	for _, e := range left {
		names = append(names, e.Name())
	}
	if want := []string{"upload-2", "upload-3", "upload-3.target"}; !slices.Equal(names, want) {
		t.Errorf("spool after resume holds %v; want %v", names, want)
	}
	for _, want := range []string{"upload-2", "upload-3", "b/half", "still being written"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

func TestRemoteAccess(t *testing.T) {
	tests := []struct {
		name string
		r    *config.Remote
		want string
	}{
		{"s3 read_only false", &config.Remote{Type: "s3", S3: &config.S3{Writable: true}}, "read-write"},
		{"s3 default", &config.Remote{Type: "s3", S3: &config.S3{}}, "read-only"},
		{"swift read_only false", &config.Remote{Type: "swift", Swift: &config.Swift{Writable: true}}, "read-write"},
		{"icos", &config.Remote{Type: "icos"}, "read-only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := access(tt.r); got != tt.want {
				t.Errorf("access = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestMeterWriter: write requests of a metered remote are counted as
// store operations; an unmetered remote's writer is left as it is.
func TestMeterWriter(t *testing.T) {
	mem := memstore.New()
	m := newMetrics(fixedStats{})
	w := meterWriter(mem, m.wrap("r", "s3", mem))
	ctx := t.Context()
	if _, err := w.Upload(ctx, "b/k", strings.NewReader("data"), 4, time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.SetModTime(ctx, "b/k", time.Unix(2, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Rename(ctx, "b/k", "b/l"); err != nil {
		t.Fatal(err)
	}
	if err := w.Remove(ctx, "b/l"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Stat(ctx, "b/l"); err == nil {
		t.Fatal("Stat after Remove succeeded")
	}
	srv := httptest.NewServer(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, op := range []string{"upload", "setmodtime", "rename", "remove"} {
		want := `earthmount_store_operations_total{op="` + op + `",remote="r",result="ok",type="s3"} 1`
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if !strings.Contains(string(body), `earthmount_store_operations_total{op="stat",remote="r",result="not_exist",type="s3"} 1`) {
		t.Errorf("metrics lack the failed stat")
	}
	if got := meterWriter(mem, mem); got != fs.WriteStore(mem) {
		t.Errorf("unmetered store: writer wrapped")
	}
}
