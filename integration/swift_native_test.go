package integration

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/backends/storetest"
	"github.com/earthmount/earthmount/backends/swift"
	"github.com/earthmount/earthmount/integration/testenv"
)

// TestSwiftNative runs backends/swift against the real Swift all-in-one
// through its native API (tempauth v1.0 login with gophercloud's swauth):
// the contract suite, with the container configured and with containers
// found by listing the account, then SLO and DLO objects (swiftlarge_test.go)
// and, where earthmount's config knows swift remotes, a mount
// (swiftmount_test.go). One SAIO serves all, in separate containers.
func TestSwiftNative(t *testing.T) {
	sw := startSwift(t)
	client, err := sw.SwiftClient(t.Context())
	need(t, err)
	t.Run("contract", func(t *testing.T) {
		for _, configured := range []bool{true, false} {
			name, container := "listed-containers", "native-listed"
			if configured {
				name, container = "configured-container", "native-configured"
			}
			t.Run(name, func(t *testing.T) {
				storetest.Run(t, swiftFactory(client, container, configured))
			})
		}
	})
	t.Run("large objects", func(t *testing.T) { swiftLargeObjects(t, client) })
	t.Run("writer", func(t *testing.T) {
		// 70 MiB: above the SLO threshold, so the upload is segmented.
		need(t, testenv.CreateContainer(t.Context(), client, "native-writer"))
		storetest.RunWriter(t, newSwiftStore(t, client, nil), "native-writer/", 70<<20)
		// Removing the large object removed its segments too.
		pages, err := objects.List(client, "native-writer_segments", nil).AllPages(t.Context())
		need(t, err)
		left, err := objects.ExtractNames(pages)
		need(t, err)
		if len(left) != 0 {
			t.Errorf("segments left after Remove: %q", left)
		}
	})
	t.Run("mount", func(t *testing.T) { swiftNativeMount(t, sw, client) })
	t.Run("write through mount", func(t *testing.T) { swiftWriteMount(t, sw, client) })
}

// swiftFactory uploads the suite's fixture into a new container through
// the Swift API and returns a backends/swift store for it. Swift holds a
// key that is also a prefix, so every check of the suite runs.
func swiftFactory(client *gophercloud.ServiceClient, container string, configured bool) storetest.Factory {
	rel := func(key string) string { return strings.TrimPrefix(key, container+"/") }
	return storetest.Factory{
		Root:         container + "/",
		Capabilities: storetest.Capabilities{Buckets: true},
		New: func(t *testing.T, fixture []storetest.Object) backends.Store {
			ctx := t.Context()
			need(t, testenv.CreateContainer(ctx, client, container))
			for _, o := range fixture {
				_, err := testenv.PutSwift(ctx, client, container, rel(o.Key), o.Data)
				need(t, err)
			}
			var containers []string
			if configured {
				containers = []string{container}
			}
			return newSwiftStore(t, client, containers)
		},
		Overwrite: func(ctx context.Context, key string, data []byte) error {
			_, err := testenv.PutSwift(ctx, client, container, rel(key), data)
			return err
		},
	}
}

// newSwiftStore returns a backends/swift store on the client that logs
// warnings to the test.
func newSwiftStore(t *testing.T, client *gophercloud.ServiceClient, containers []string) *swift.Store {
	t.Helper()
	st, err := swift.New(t.Context(), swift.Config{
		Remote: "swift-native", Containers: containers, Client: client,
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	need(t, err)
	return st
}
