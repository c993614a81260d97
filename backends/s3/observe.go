package s3

import (
	"errors"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// observe puts cfg's metrics hooks around the client's HTTP exchanges and
// retries.
func observe(o *s3.Options, cfg Config) {
	if cfg.OnHTTP != nil {
		o.HTTPClient = observedClient{next: o.HTTPClient, on: cfg.OnHTTP}
	}
	if cfg.OnRetry != nil {
		o.Retryer = countingRetryer{Retryer: o.Retryer, on: cfg.OnRetry}
	}
}

// observedClient reports every exchange of the SDK's HTTP client.
type observedClient struct {
	next s3.HTTPClient
	on   func(*http.Request, *http.Response, error)
}

func (c observedClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.next.Do(req)
	c.on(req, resp, err)
	return resp, err
}

// countingRetryer reports each retry the SDK decides on: RetryDelay is
// asked once before every attempt beyond the first.
type countingRetryer struct {
	aws.Retryer
	on func(op string)
}

func (r countingRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	r.on("request")
	return r.Retryer.RetryDelay(attempt, err)
}

// brokenBody makes a response that came with a 200 but whose body could
// not be decoded (a listing cut short, or truncated yet well framed)
// retryable: the SDK does not retry deserialization errors, and this one
// is a broken transfer, not a server's answer.
func brokenBody(err error) aws.Ternary {
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		return aws.TrueTernary
	}
	return aws.UnknownTernary
}

// retried returns the hook for resume.Options.OnRetry.
func (s *Store) retried(op string) func() {
	if s.onRetry == nil {
		return nil
	}
	return func() { s.onRetry(op) }
}
