package testenv

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Helpers the benchmark programs (integration/bench, zarrbench) share.

// Machine describes the CPU and kernel, for a benchmark report.
func Machine() string {
	model := runtime.GOARCH
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
		f.Close()
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return fmt.Sprintf("%d cores (%s), Linux %s", runtime.NumCPU(), model, strings.TrimSpace(string(kernel)))
}

// RemoveWorkDir deletes a benchmark's work directory, unless keep, or
// unless something is still mounted in its mnt/ (deleting would then
// reach into the mount). prog prefixes the lines written to w.
func RemoveWorkDir(w io.Writer, prog, work string, keep bool) {
	if keep {
		fmt.Fprintln(w, prog+": kept", work)
		return
	}
	entries, _ := os.ReadDir(filepath.Join(work, "mnt"))
	for _, e := range entries {
		dir := filepath.Join(work, "mnt", e.Name())
		if fstype, _, _ := MountedAt(dir); fstype != "" {
			fmt.Fprintf(w, "%s: %s is still mounted (%s); leaving %s in place\n", prog, dir, fstype, work)
			return
		}
	}
	if err := os.RemoveAll(work); err != nil {
		fmt.Fprintln(w, prog+":", err)
	}
}

// Plural is "s" unless n is 1.
func Plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
