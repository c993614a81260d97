package config

import "testing"

func TestParseCABundle(t *testing.T) {
	cfg, err := Parse([]byte(`
remotes:
  a:
    type: s3
    endpoint: https://s3.example.org
    ca_bundle: /etc/ssl/site-ca.pem
  b:
    type: swift
    auth_type: v1
    auth_url: https://swift.example.org/auth/v1.0
    username: u
    password: p
    ca_bundle: ~/ca.pem
  c:
    type: icos
    ca_bundle: /tmp/icos-ca.pem
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Remotes[0].S3.CABundle; got != "/etc/ssl/site-ca.pem" {
		t.Errorf("s3 ca_bundle = %q", got)
	}
	if got := cfg.Remotes[1].Swift.CABundle; got != "~/ca.pem" {
		t.Errorf("swift ca_bundle = %q", got)
	}
	if got := cfg.Remotes[2].ICOS.CABundle; got != "/tmp/icos-ca.pem" {
		t.Errorf("icos ca_bundle = %q", got)
	}
	// The openstack CLI's variable fills in a swift remote's ca_bundle.
	b := Builtin(func(k string) string {
		return map[string]string{"OS_AUTH_URL": "https://keystone.example.org:5000/v3", "OS_AUTH_TYPE": "v3oidcaccesstoken",
			"OS_ACCESS_TOKEN": "tok", "OS_CACERT": "/etc/ssl/egi.pem"}[k]
	})
	r, ok := b.Remote("eosc")
	if !ok || r.Swift.CABundle != "/etc/ssl/egi.pem" || r.Swift.From["ca_bundle"] != "OS_CACERT" {
		t.Errorf("eosc from OS_CACERT: %+v", r)
	}
}
