package testenv

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/containers"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/swauth"
	"gopkg.in/yaml.v3"
)

// Helpers for the native Swift API of the all-in-one (tempauth v1.0), as
// opposed to its s3api layer.

// SwiftUser and SwiftKey are the tempauth account the SAIO configures.
const (
	SwiftUser = "test:tester"
	SwiftKey  = "testing"
)

// SwiftClient logs in with tempauth v1.0 and returns an object-store
// client for the test account.
func (sw *Swift) SwiftClient(ctx context.Context) (*gophercloud.ServiceClient, error) {
	pc, err := openstack.NewClient(sw.AuthURL)
	if err != nil {
		return nil, fmt.Errorf("swift client: %w", err)
	}
	pc.HTTPClient = http.Client{}
	c, err := swauth.NewObjectStorageV1(ctx, pc, swauth.AuthOpts{User: SwiftUser, Key: SwiftKey})
	if err != nil {
		return nil, fmt.Errorf("swift client: tempauth login: %w", err)
	}
	return c, nil
}

// CreateContainer creates a container (201, or 202 when it exists).
func CreateContainer(ctx context.Context, c *gophercloud.ServiceClient, name string) error {
	if err := containers.Create(ctx, c, name, nil).Err; err != nil {
		return fmt.Errorf("swift: create container %s: %w", name, err)
	}
	return nil
}

// PutSwift uploads data as container/name and returns its ETag.
func PutSwift(ctx context.Context, c *gophercloud.ServiceClient, container, name string, data []byte) (string, error) {
	sum := md5.Sum(data)
	etag := hex.EncodeToString(sum[:])
	err := objects.Create(ctx, c, container, name, objects.CreateOpts{
		Content: bytes.NewReader(data), ETag: etag, ContentType: "application/octet-stream",
	}).Err
	if err != nil {
		return "", fmt.Errorf("swift: put %s/%s: %w", container, name, err)
	}
	return etag, nil
}

// PutSwiftStream uploads size bytes from r as container/name without
// holding them in memory (no ETag: Swift computes its own).
func PutSwiftStream(ctx context.Context, c *gophercloud.ServiceClient, container, name string, r io.Reader, size int64) error {
	err := objects.Create(ctx, c, container, name, objects.CreateOpts{
		Content: r, ContentLength: size, NoETag: true, ContentType: "application/octet-stream",
	}).Err
	if err != nil {
		return fmt.Errorf("swift: put %s/%s: %w", container, name, err)
	}
	return nil
}

// PutDLO uploads the segments as segContainer/name/00000000, ... and a
// dynamic large object manifest container/name over them (X-Object-Manifest
// "segContainer/name/"): a 0-byte object whose GET is the segments in
// name order.
func PutDLO(ctx context.Context, c *gophercloud.ServiceClient, container, name, segContainer string, segments [][]byte) error {
	for i, seg := range segments {
		if _, err := PutSwift(ctx, c, segContainer, fmt.Sprintf("%s/%08d", name, i), seg); err != nil {
			return err
		}
	}
	err := objects.Create(ctx, c, container, name, objects.CreateOpts{
		Content: bytes.NewReader(nil), ObjectManifest: segContainer + "/" + name + "/",
		ContentType: "application/octet-stream",
	}).Err
	if err != nil {
		return fmt.Errorf("swift: put DLO manifest %s/%s: %w", container, name, err)
	}
	return nil
}

// PutSLO uploads the segments as segContainer/name/00000000, ... and a
// static large object manifest container/name listing them
// (PUT ?multipart-manifest=put).
func PutSLO(ctx context.Context, c *gophercloud.ServiceClient, container, name, segContainer string, segments [][]byte) error {
	type segment struct {
		Path      string `json:"path"`
		ETag      string `json:"etag"`
		SizeBytes int    `json:"size_bytes"`
	}
	var manifest []segment
	for i, seg := range segments {
		segName := fmt.Sprintf("%s/%08d", name, i)
		etag, err := PutSwift(ctx, c, segContainer, segName, seg)
		if err != nil {
			return err
		}
		manifest = append(manifest, segment{Path: "/" + segContainer + "/" + segName, ETag: etag, SizeBytes: len(seg)})
	}
	body, err := json.Marshal(manifest)
	if err != nil {
		return fmt.Errorf("swift: SLO manifest: %w", err)
	}
	err = objects.Create(ctx, c, container, name, objects.CreateOpts{
		Content: bytes.NewReader(body), MultipartManifest: "put", NoETag: true,
		ContentType: "application/octet-stream",
	}).Err
	if err != nil {
		return fmt.Errorf("swift: put SLO manifest %s/%s: %w", container, name, err)
	}
	return nil
}

// SwiftRemoteV1 is a `type: swift` remote with tempauth v1.0 login, as
// earthmount's config documents it.
func (sw *Swift) SwiftRemoteV1(containers ...string) map[string]any {
	r := map[string]any{
		"type": "swift", "auth_type": "v1", "auth_url": sw.AuthURL,
		"username": SwiftUser, "password": SwiftKey,
	}
	if len(containers) > 0 {
		r["containers"] = containers
	}
	return r
}

// WriteRemotes writes a config file with the given remotes (any type, as
// maps) and cache settings, readable only by its owner.
func WriteRemotes(path string, cache CacheConfig, remotes map[string]map[string]any) error {
	doc := map[string]any{"remotes": remotes}
	if cache != (CacheConfig{}) {
		doc["cache"] = cache
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}
