package s3

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"

	"github.com/earthmount/earthmount/backends"
)

// Transport limits. A wrong endpoint must fail within seconds, and the
// chunk cache issues many ranged GETs to one host in parallel.
const (
	dialTimeout           = 5 * time.Second
	tlsHandshakeTimeout   = 5 * time.Second
	responseHeaderTimeout = 15 * time.Second
	idleConnTimeout       = 90 * time.Second
	maxIdleConnsPerHost   = 128
)

// Store is a backends.Store over one S3 endpoint. It is safe for
// concurrent use.
type Store struct {
	client    *s3.Client
	remote    string
	endpoint  string
	buckets   []string // configured buckets in prefix order; nil: ListBuckets
	source    string   // credential source, for messages
	anonymous bool
	attempts  int           // body-read attempts per ReadAt
	stall     time.Duration // body silence after which a read starts over
	copyLimit int64         // largest single CopyObject and copied part (copy.go)
	onRetry   func(op string)
	log       *slog.Logger
}

var _ backends.Store = (*Store)(nil)

// New validates cfg and builds a Store. It reads the AWS environment
// variables and shared files to choose credentials, but sends nothing over
// the network: every request waits for the first List, Stat or ReadAt.
func New(ctx context.Context, cfg Config) (*Store, error) {
	cfg, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	env, err := config.NewEnvConfig()
	if err != nil {
		return nil, fmt.Errorf("s3 remote %q: reading AWS environment: %w", cfg.Remote, err)
	}
	files := findSharedFiles(env)
	choice, err := chooseCredentials(ctx, cfg, env, files)
	if err != nil {
		return nil, fmt.Errorf("s3 remote %q: credentials: %w", cfg.Remote, err)
	}

	opts := []func(*config.LoadOptions) error{
		config.WithRegion(cfg.Region),
		config.WithSharedConfigFiles(files.config),
		config.WithSharedCredentialsFiles(files.credentials),
		// Never ask 169.254.169.254 for anything: not for credentials, not
		// for the region, not for the defaults mode.
		config.WithEC2IMDSClientEnableState(imds.ClientDisabled),
		config.WithDefaultsMode(aws.DefaultsModeLegacy),
		// A BuildableClient lets the SDK add AWS_CA_BUNDLE or a profile's
		// ca_bundle to the trusted roots, as every AWS tool does.
		config.WithHTTPClient(newTransport(cfg.RootCAs)),
		config.WithLogger(sdkLogger(cfg.Logger)),
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	if choice.provider != nil {
		// The SDK wraps it in aws.NewCredentialsCache.
		opts = append(opts, config.WithCredentialsProvider(choice.provider))
	} else {
		opts = append(opts, config.WithSharedConfigProfile(choice.profile))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3 remote %q: loading AWS configuration (%s): %w", cfg.Remote, choice.source, err)
	}
	if _, ok := awsCfg.Credentials.(*aws.CredentialsCache); !ok && awsCfg.Credentials != nil {
		awsCfg.Credentials = aws.NewCredentialsCache(awsCfg.Credentials)
	}

	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(cfg.Endpoint)
		o.UsePathStyle = true
		o.Region = cfg.Region
		// Set both explicitly whatever the SDK's defaults: Ceph RGW
		// rejects the aws-chunked checksum trailers.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.DisableLogOutputChecksumValidationSkipped = true
		o.Retryer = retry.NewStandard(func(ro *retry.StandardOptions) {
			ro.MaxAttempts = cfg.MaxAttempts
			// A bad certificate is decided first: the SDK's own list would
			// retry it as a connection error.
			ro.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(badCertificate)}, ro.Retryables...)
			ro.Retryables = append(ro.Retryables, retry.IsErrorRetryableFunc(brokenBody))
		})
		if cfg.HTTPClient != nil {
			o.HTTPClient = cfg.HTTPClient
		}
		observe(o, cfg)
	})
	return &Store{
		client:    client,
		remote:    cfg.Remote,
		endpoint:  cfg.Endpoint,
		buckets:   cfg.Buckets,
		source:    choice.source,
		anonymous: choice.anonymous,
		attempts:  cfg.MaxAttempts,
		stall:     cfg.StallTimeout,
		copyLimit: cfg.CopyLimit,
		onRetry:   cfg.OnRetry,
		log:       cfg.Logger.With("store", cfg.Remote),
	}, nil
}

// CredentialSource tells where the Store's credentials come from, such as
// "access keys from config" or "anonymous (unsigned requests)". It never
// contains a secret.
func (s *Store) CredentialSource() string { return s.source }

// sdkLogger sends the SDK's own log lines (warnings such as a skipped
// checksum) to the injected logger instead of stderr.
func sdkLogger(log *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		level := slog.LevelDebug
		if c == logging.Warn {
			level = slog.LevelWarn
		}
		log.Log(context.Background(), level, "aws-sdk: "+fmt.Sprintf(format, v...))
	})
}

func newTransport(roots *x509.CertPool) *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = dialTimeout }).
		WithTransportOptions(func(tr *http.Transport) {
			tr.TLSHandshakeTimeout = tlsHandshakeTimeout
			tr.ResponseHeaderTimeout = responseHeaderTimeout
			tr.IdleConnTimeout = idleConnTimeout
			tr.MaxIdleConns = 2 * maxIdleConnsPerHost
			tr.MaxIdleConnsPerHost = maxIdleConnsPerHost
			if roots != nil {
				tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
			}
		})
}

// splitKey splits a store key into bucket and object key. ok is false when
// the key names no object inside a bucket ("", "bucket", "bucket/").
func splitKey(key string) (bucket, object string, ok bool) {
	bucket, object, _ = strings.Cut(key, "/")
	return bucket, object, bucket != "" && object != ""
}
