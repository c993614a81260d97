package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The Swift all-in-one's configuration, written into a private swift_dir so
// that /etc/swift is never read: swift.conf, one config per storage server
// and the proxy's, whose pipeline carries s3api in front of tempauth (s3api
// checks that an auth middleware sits between it and proxy-server).

// swiftPorts are the ports of one SAIO.
type swiftPorts struct {
	Proxy, Object, Container, Account, Memcached int
}

const swiftConf = `[swift-hash]
swift_hash_path_suffix = earthmount-test-suffix
swift_hash_path_prefix = earthmount-test-prefix

[storage-policy:0]
name = Policy-0
default = yes
`

// swiftServerConf is the config of one storage server. workers = 0 keeps
// each server a single process, so that stopping the recorded pid stops it.
func swiftServerConf(kind string, port int, etc, devices, user string) string {
	return fmt.Sprintf(`[DEFAULT]
bind_ip = 127.0.0.1
bind_port = %d
user = %s
swift_dir = %s
devices = %s
mount_check = false
disable_fallocate = true
workers = 0
log_level = WARNING

[pipeline:main]
pipeline = %s-server

[app:%s-server]
use = egg:swift#%s
`, port, user, etc, devices, kind, kind, kind)
}

// swiftProxyConf is the proxy's config: tempauth user test:tester with key
// "testing", which s3api accepts as access key "test:tester" and secret
// "testing".
func swiftProxyConf(p swiftPorts, etc, user string) string {
	return fmt.Sprintf(`[DEFAULT]
bind_ip = 127.0.0.1
bind_port = %d
user = %s
swift_dir = %s
workers = 0
log_level = WARNING

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true

[filter:s3api]
use = egg:swift#s3api
location = us-east-1

[filter:tempauth]
use = egg:swift#tempauth
user_admin_admin = admin .admin .reseller_admin
user_test_tester = testing .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:%d

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:bulk]
use = egg:swift#bulk

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo
`, p.Proxy, user, etc, p.Memcached)
}

// writeSwiftConfigs writes swift.conf and the four server configs into etc.
func writeSwiftConfigs(etc, devices, user string, p swiftPorts) error {
	files := map[string]string{
		"swift.conf":            swiftConf,
		"object-server.conf":    swiftServerConf("object", p.Object, etc, devices, user),
		"container-server.conf": swiftServerConf("container", p.Container, etc, devices, user),
		"account-server.conf":   swiftServerConf("account", p.Account, etc, devices, user),
		"proxy-server.conf":     swiftProxyConf(p, etc, user),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(etc, name), []byte(text), 0o644); err != nil {
			return fmt.Errorf("swift config: %w", err)
		}
	}
	return nil
}

// swiftRingCmds returns the swift-ring-builder invocations for one ring: a
// single device with one replica (part power 6 is plenty for a test).
func swiftRingCmds(kind string, port int) [][]string {
	b := kind + ".builder"
	return [][]string{
		{b, "create", "6", "1", "1"},
		{b, "add", fmt.Sprintf("r1z1-127.0.0.1:%d/d1", port), "100"},
		{b, "rebalance"},
	}
}

func quoteArgs(args []string) string { return strings.Join(args, " ") }
