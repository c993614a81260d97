package testenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// A Tool is a Go program the tests need, pinned to a version and built once
// into the tools directory.
type Tool struct {
	Name    string // file name in the tools directory
	Package string // go install path, without @version
	Version string
}

// VersityTool is the pinned S3 server. .ci/run installs the same version.
func VersityTool() Tool {
	return Tool{Name: "versitygw", Package: "github.com/versity/versitygw/cmd/versitygw", Version: "v1.8.0"}
}

// ToxiproxyTool is the pinned latency proxy. .ci/run installs the same
// version; it matches the client module in go.mod.
func ToxiproxyTool() Tool {
	return Tool{Name: "toxiproxy-server", Package: "github.com/Shopify/toxiproxy/v2/cmd/server", Version: "v2.5.0"}
}

// ToolsDir is ${EARTHMOUNT_TOOLS_DIR:-$HOME/.cache/earthmount-tools}/bin.
func ToolsDir() (string, error) {
	base := os.Getenv("EARTHMOUNT_TOOLS_DIR")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("tools dir: %w", err)
		}
		base = filepath.Join(home, ".cache", "earthmount-tools")
	}
	return filepath.Join(base, "bin"), nil
}

// Ensure returns the path of the tool's binary, building it with
// `go install` first when it is missing (versitygw takes ~3 minutes on two
// cores the first time). A lock file keeps concurrent test processes from
// building it twice. A failed build wraps ErrMissing.
func (tl Tool) Ensure(ctx context.Context) (string, error) {
	dir, err := ToolsDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, tl.Name)
	if isExecutable(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("install %s: %w", tl.Name, err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".install.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("install %s: %w", tl.Name, err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("install %s: lock: %w", tl.Name, err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if isExecutable(bin) { // another process built it while we waited
		return bin, nil
	}
	// go install names the binary after the package's last element
	// ("server" for toxiproxy), so build into a scratch GOBIN and rename.
	gobin, err := os.MkdirTemp(dir, ".gobin-")
	if err != nil {
		return "", fmt.Errorf("install %s: %w", tl.Name, err)
	}
	defer os.RemoveAll(gobin)
	cmd := exec.CommandContext(ctx, "go", "install", tl.Package+"@"+tl.Version)
	cmd.Dir = gobin // outside any module: the pinned version decides
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		// Usually no network to the module proxy: the tool is missing.
		return "", fmt.Errorf("%w: %s is not in %s and go install %s@%s failed: %v\n%s",
			ErrMissing, tl.Name, dir, tl.Package, tl.Version, err, out)
	}
	built := filepath.Join(gobin, filepath.Base(tl.Package))
	if err := os.Rename(built, bin); err != nil {
		return "", fmt.Errorf("install %s: %w", tl.Name, err)
	}
	return bin, nil
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// RepoRoot returns the directory holding earthmount's go.mod, found from the
// current directory (tests run in integration/, `go run` in the root).
func RepoRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the earthmount module (run from the repository)")
	}
	return filepath.Dir(mod), nil
}

// BuildEarthmount builds ./cmd/earthmount into dir and returns the binary's
// path. The Go build cache makes repeated builds cheap.
func BuildEarthmount(ctx context.Context, dir string) (string, error) {
	root, err := RepoRoot(ctx)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "earthmount")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/earthmount")
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/earthmount: %w\n%s", err, out.String())
	}
	return bin, nil
}
