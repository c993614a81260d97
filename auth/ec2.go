package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// EC2Credentials are S3 keys that Keystone issued for a user and project.
type EC2Credentials struct {
	Access string
	Secret Secret
}

// EC2Options configures an EC2 credentials source.
type EC2Options struct {
	// AuthURL is the identity endpoint (as for Keystone).
	AuthURL string
	// Keystone yields project-scoped tokens with UserID and ProjectID.
	Keystone   Source
	HTTPClient *http.Client
	Backoff    time.Duration // how long a failure is remembered; 0 means DefaultBackoff
	Now        func() time.Time
	Logger     *slog.Logger
}

// EC2 finds the user's EC2 credentials for the project, creating one when
// there is none (what `openstack ec2 credentials list/create` does), once;
// the keys are then reused for the life of the process.
type EC2 struct {
	opts EC2Options

	mu        sync.Mutex
	creds     *EC2Credentials
	failErr   error
	failUntil time.Time
}

// NewEC2 builds the source; it contacts nothing.
func NewEC2(opts EC2Options) *EC2 {
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultBackoff
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &EC2{opts: opts}
}

// Credentials returns the keys, fetching them on the first call.
func (e *EC2) Credentials(ctx context.Context) (EC2Credentials, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.creds != nil {
		return *e.creds, nil
	}
	if e.failErr != nil && e.opts.Now().Before(e.failUntil) {
		return EC2Credentials{}, e.failErr
	}
	c, err := e.fetch(ctx)
	if err != nil {
		if e.failErr == nil {
			e.opts.Logger.Error("getting EC2 credentials failed; S3 access fails with EACCES until it works", "err", err, "retry_after", e.opts.Backoff)
		}
		e.failErr, e.failUntil = err, e.opts.Now().Add(e.opts.Backoff)
		return EC2Credentials{}, err
	}
	e.failErr, e.creds = nil, &c
	return c, nil
}

func (e *EC2) fetch(ctx context.Context) (EC2Credentials, error) {
	tok, err := e.opts.Keystone.Token(ctx)
	if err != nil {
		return EC2Credentials{}, err
	}
	if tok.UserID == "" || tok.ProjectID == "" {
		return EC2Credentials{}, rejected("EC2 credentials", "use a login that is scoped to a project (project_id)", "the Keystone token names no user or project")
	}
	u := V3URL(e.opts.AuthURL) + "/users/" + url.PathEscape(tok.UserID) + "/credentials/OS-EC2"
	hdr := map[string]string{"X-Auth-Token": tok.Value.Reveal()}
	const step = "EC2 credentials"
	hint := "the project-scoped token may not list or create EC2 credentials (a member role is needed); or create them yourself (openstack ec2 credentials create) and give access_key_id/secret_access_key"
	_, body, err := do(ctx, e.opts.HTTPClient, call{step: step + " list", kind: "ec2_list", method: http.MethodGet, url: u, header: hdr, ok: []int{http.StatusOK}, hint: hint})
	if err != nil {
		return EC2Credentials{}, err
	}
	var list struct {
		Credentials []ec2Cred `json:"credentials"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return EC2Credentials{}, unreachable(step+" list", "", err)
	}
	for _, c := range list.Credentials {
		if c.TenantID == tok.ProjectID && c.Access != "" && c.Secret != "" {
			e.opts.Logger.Info("using existing EC2 credentials", "access", c.Access, "project", tok.ProjectID)
			return EC2Credentials{Access: c.Access, Secret: Secret(c.Secret)}, nil
		}
	}
	b, _ := json.Marshal(map[string]string{"tenant_id": tok.ProjectID})
	_, body, err = do(ctx, e.opts.HTTPClient, call{step: step + " create", kind: "ec2_create", method: http.MethodPost, url: u, header: hdr, body: bytes.NewReader(b), ok: []int{http.StatusCreated, http.StatusOK}, hint: hint, once: true})
	if err != nil {
		return EC2Credentials{}, err
	}
	var created struct {
		Credential ec2Cred `json:"credential"`
	}
	if err := json.Unmarshal(body, &created); err != nil || created.Credential.Access == "" || created.Credential.Secret == "" {
		return EC2Credentials{}, &StepError{Step: step + " create", Err: fmt.Errorf("%w: the answer has no access/secret", ErrUnreachable)}
	}
	e.opts.Logger.Info("created EC2 credentials (none existed for this project)", "access", created.Credential.Access, "project", tok.ProjectID)
	return EC2Credentials{Access: created.Credential.Access, Secret: Secret(created.Credential.Secret)}, nil
}

type ec2Cred struct {
	Access   string `json:"access"`
	Secret   string `json:"secret"`
	TenantID string `json:"tenant_id"`
	UserID   string `json:"user_id"`
}
