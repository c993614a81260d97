package s3

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Defaults for the zero values of Config.
const (
	DefaultRegion      = "us-east-1"
	DefaultMaxAttempts = 5
	// DefaultStallTimeout is far above a healthy gap between packets and
	// far below the minutes a hung connection would otherwise cost.
	DefaultStallTimeout = 20 * time.Second
	// DefaultCopyLimit is S3's largest CopyObject and UploadPartCopy.
	DefaultCopyLimit = 5 << 30
)

// Config describes one S3 remote. The zero values of the optional fields
// are documented per field.
type Config struct {
	// Remote is the remote's name, used in errors and logs.
	Remote string
	// Endpoint is the server's base URL without a bucket, e.g.
	// https://nyu1.osn.mghpcc.org; http is allowed (tests).
	Endpoint string
	// Region signs requests; "" means DefaultRegion.
	Region string
	// Buckets restricts the remote to these buckets; List("", "/") then
	// returns them without a request. Empty means ListBuckets.
	Buckets []string
	// Profile names a profile of ~/.aws/credentials and ~/.aws/config.
	Profile string
	// AccessKeyID and SecretAccessKey are explicit keys; both or neither.
	AccessKeyID     string
	SecretAccessKey string
	// Anonymous sends unsigned requests.
	Anonymous bool
	// Credentials, when set, is the only source of keys (for example EC2
	// credentials fetched from Keystone on first use); it excludes the
	// fields above. CredentialsSource describes it for CredentialSource.
	Credentials       aws.CredentialsProvider
	CredentialsSource string
	// HTTPClient replaces the default transport (tuned for many parallel
	// ranged GETs); optional.
	HTTPClient *http.Client
	// RootCAs, when set, are the CAs trusted for the endpoint instead of
	// the system's (the caller adds those if it wants them; AWS_CA_BUNDLE
	// is still added).
	RootCAs *x509.CertPool
	// OnRetry, when set, hears of every attempt beyond the first: the
	// SDK's retries ("request") and reads resumed after a broken body
	// ("read"). OnHTTP hears of every HTTP exchange. Both are for metrics
	// and must be quick.
	OnRetry func(op string)
	OnHTTP  func(req *http.Request, resp *http.Response, err error)
	// MaxAttempts bounds the SDK's attempts per request (jittered
	// exponential backoff between them); 0 means DefaultMaxAttempts.
	MaxAttempts int
	// StallTimeout gives up a response body that sends nothing for this
	// long and reads on with a new request; 0 means DefaultStallTimeout.
	StallTimeout time.Duration
	// Logger receives debug traces and retry warnings; nil discards them.
	Logger *slog.Logger
	// CopyLimit is the largest object copied with one CopyObject
	// (rename, mtime change), and the largest part of the multipart copy
	// of a bigger one; 0 means S3's limit, DefaultCopyLimit. Tests lower it.
	CopyLimit int64
}

// validate checks cfg and returns a copy with the defaults filled in.
func (cfg Config) validate() (Config, error) {
	var errs []error
	if cfg.Endpoint == "" {
		errs = append(errs, errors.New("endpoint is required"))
	} else if u, err := url.Parse(cfg.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("endpoint %q must be an http or https URL such as https://s3.example.org", cfg.Endpoint))
	} else if strings.Trim(u.Path, "/") != "" {
		errs = append(errs, fmt.Errorf("endpoint %q must not contain a path (give buckets separately)", cfg.Endpoint))
	}
	if (cfg.AccessKeyID == "") != (cfg.SecretAccessKey == "") {
		errs = append(errs, errors.New("access_key_id and secret_access_key must be given together"))
	}
	if cfg.Credentials != nil && (cfg.AccessKeyID != "" || cfg.Profile != "" || cfg.Anonymous) {
		errs = append(errs, errors.New("a credentials provider excludes access keys, profile and anonymous"))
	}
	if cfg.Anonymous && (cfg.AccessKeyID != "" || cfg.Profile != "") {
		errs = append(errs, errors.New("anonymous excludes access keys and profile"))
	}
	if cfg.MaxAttempts < 0 {
		errs = append(errs, fmt.Errorf("max attempts %d must not be negative", cfg.MaxAttempts))
	}
	for _, b := range cfg.Buckets {
		if b == "" || strings.ContainsAny(b, "/\n") {
			errs = append(errs, fmt.Errorf("bucket name %q is not valid", b))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return cfg, fmt.Errorf("s3 remote %q: %w", cfg.Remote, err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.CopyLimit <= 0 || cfg.CopyLimit > DefaultCopyLimit {
		cfg.CopyLimit = DefaultCopyLimit
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Endpoint = strings.TrimRight(cfg.Endpoint, "/")
	cfg.Buckets = sortBuckets(cfg.Buckets)
	return cfg, nil
}

// sortBuckets returns the distinct names in the byte order of the prefixes
// "name/" they become: "a-b/" sorts before "a/" although "a" < "a-b".
func sortBuckets(names []string) []string {
	out := slices.Clone(names)
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(a+"/", b+"/") })
	return slices.Compact(out)
}
