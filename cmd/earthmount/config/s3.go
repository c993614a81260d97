package config

import (
	"fmt"
	"net/url"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/earthmount/earthmount/auth"
)

// S3 holds the settings of a type: s3 remote.
type S3 struct {
	Endpoint        string
	Region          string
	Buckets         []string
	Profile         string
	AccessKeyID     string
	SecretAccessKey auth.Secret
	Anonymous       bool
	// CABundle is a PEM file of CA certificates trusted in addition to the
	// system's (and to AWS_CA_BUNDLE).
	CABundle string
	// Writable is read_only: false: writes through the mount upload.
	Writable bool
	// CredentialsFrom names a swift remote whose Keystone login provides
	// EC2 credentials; Resolve links CredentialsSwift to its settings.
	CredentialsFrom  string
	CredentialsSwift *Swift
}

var s3Keys = []string{"type", "endpoint", "region", "buckets", "profile", "access_key_id", "secret_access_key", "anonymous", "credentials_from", "read_only", "ca_bundle"}

func parseS3(n *yaml.Node, where string) (*S3, error) {
	r := &S3{}
	err := eachKey(n, where, s3Keys, func(key string, v *yaml.Node) error {
		w := where + "." + key
		var err error
		switch key {
		case "endpoint":
			r.Endpoint, err = scalar(v, w)
		case "region":
			r.Region, err = scalar(v, w)
		case "profile":
			r.Profile, err = scalar(v, w)
		case "access_key_id":
			r.AccessKeyID, err = scalar(v, w)
		case "secret_access_key":
			var s string
			s, err = scalar(v, w)
			r.SecretAccessKey = auth.Secret(s)
		case "anonymous":
			r.Anonymous, err = boolean(v, w)
		case "ca_bundle":
			r.CABundle, err = scalar(v, w)
		case "read_only":
			var ro bool
			ro, err = boolean(v, w)
			r.Writable = !ro
		case "credentials_from":
			r.CredentialsFrom, err = scalar(v, w)
		case "buckets":
			r.Buckets, err = stringList(v, w)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := r.validate(where); err != nil {
		return nil, fmt.Errorf("line %d: %w", n.Line, err)
	}
	return r, nil
}

func (r *S3) validate(where string) error {
	if r.Endpoint == "" {
		return fmt.Errorf("%s.endpoint: missing (for OSN: https://nyu1.osn.mghpcc.org)", where)
	}
	if err := checkURL(r.Endpoint); err != nil {
		return fmt.Errorf("%s.endpoint: %w", where, err)
	}
	if (r.AccessKeyID == "") != (r.SecretAccessKey == "") {
		return fmt.Errorf("%s: access_key_id and secret_access_key go together; set both or neither", where)
	}
	if r.CredentialsFrom != "" && (r.AccessKeyID != "" || r.Profile != "" || r.Anonymous) {
		return fmt.Errorf("%s.credentials_from: cannot be combined with access keys, a profile or anonymous", where)
	}
	if r.Anonymous && (r.AccessKeyID != "" || r.Profile != "") {
		return fmt.Errorf("%s.anonymous: cannot be combined with access keys or a profile", where)
	}
	for i, b := range r.Buckets {
		if b == "" || filepath.Base(b) != b || b == "." || b == ".." {
			return fmt.Errorf("%s.buckets[%d]: %q is not a bucket name", where, i, b)
		}
	}
	if r.Region == "" {
		r.Region = DefaultRegion
	}
	return nil
}

// checkURL accepts absolute http and https URLs.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}
