package config

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/earthmount/earthmount/auth"
)

// Swift holds the settings of a type: swift remote (OpenStack Swift behind
// Keystone, or Swift v1 auth). Every key falls back to an environment
// variable (see SwiftEnv), so a shell prepared for the openstack CLI needs
// no config at all.
type Swift struct {
	AuthURL          string
	AuthType         string // normalised by Method
	IdentityProvider string
	Protocol         string
	AccessToken      auth.Secret
	RefreshToken     auth.Secret
	ClientID         string
	ClientSecret     auth.Secret
	OIDCIssuer       string
	OIDCAgentAccount string // oidc-agent account (renews the access token when there is no refresh token)
	OIDCSocket       string // oidc-agent's socket

	ProjectID, ProjectName, ProjectDomainName string
	StorageURL                                string
	Region                                    string

	Username, UserDomainName string
	Password                 auth.Secret

	ApplicationCredentialID     string
	ApplicationCredentialSecret auth.Secret

	AuthToken auth.Secret

	// CABundle is a PEM file of CA certificates trusted in addition to the
	// system's, for Keystone, the OIDC issuer and Swift.
	CABundle string

	Containers []string
	// Writable is read_only: false: writes through the mount upload.
	Writable bool

	// From says where each set key came from: "config" or the environment
	// variable's name. It is for messages and never holds a value.
	From map[string]string
}

// The login routes a swift remote can take (auth_type values, as the
// openstack CLI spells them).
const (
	AuthOIDC          = "v3oidcaccesstoken"
	AuthPassword      = "password"
	AuthAppCredential = "v3applicationcredential"
	AuthToken         = "token"
	AuthV1            = "v1"
)

// SwiftEnv lists, per config key, the environment variables it falls back
// to, first match wins. The README's table is generated from the same
// names.
func SwiftEnv() [][2]string {
	return [][2]string{
		{"auth_url", "OS_AUTH_URL"},
		{"auth_type", "OS_AUTH_TYPE"},
		{"identity_provider", "OS_IDENTITY_PROVIDER"},
		{"protocol", "OS_PROTOCOL"},
		{"access_token", "OS_ACCESS_TOKEN OIDC_ACCESS_TOKEN FEDCLOUD_OIDC_ACCESS_TOKEN"},
		{"refresh_token", "OIDC_REFRESH_TOKEN"},
		{"client_id", "OIDC_CLIENT_ID"},
		{"client_secret", "OIDC_CLIENT_SECRET"},
		{"oidc_issuer", "OIDC_ISSUER"},
		{"oidc_agent_account", "OIDC_AGENT_ACCOUNT FEDCLOUD_OIDC_AGENT_ACCOUNT"},
		{"oidc_socket", "OIDC_SOCK"},
		{"project_id", "OS_PROJECT_ID OS_TENANT_ID"},
		{"project_name", "OS_PROJECT_NAME OS_TENANT_NAME"},
		{"project_domain_name", "OS_PROJECT_DOMAIN_NAME"},
		{"storage_url", "OS_STORAGE_URL"},
		{"region_name", "OS_REGION_NAME"},
		{"username", "OS_USERNAME"},
		{"password", "OS_PASSWORD"},
		{"user_domain_name", "OS_USER_DOMAIN_NAME"},
		{"application_credential_id", "OS_APPLICATION_CREDENTIAL_ID"},
		{"application_credential_secret", "OS_APPLICATION_CREDENTIAL_SECRET"},
		{"auth_token", "OS_AUTH_TOKEN"},
		{"ca_bundle", "OS_CACERT"},
	}
}

// field returns the string a key is stored in.
func (s *Swift) field(key string) *string {
	switch key {
	case "auth_url":
		return &s.AuthURL
	case "auth_type":
		return &s.AuthType
	case "identity_provider":
		return &s.IdentityProvider
	case "protocol":
		return &s.Protocol
	case "access_token":
		return (*string)(&s.AccessToken)
	case "refresh_token":
		return (*string)(&s.RefreshToken)
	case "client_id":
		return &s.ClientID
	case "client_secret":
		return (*string)(&s.ClientSecret)
	case "oidc_issuer":
		return &s.OIDCIssuer
	case "oidc_agent_account":
		return &s.OIDCAgentAccount
	case "oidc_socket":
		return &s.OIDCSocket
	case "project_id":
		return &s.ProjectID
	case "project_name":
		return &s.ProjectName
	case "project_domain_name":
		return &s.ProjectDomainName
	case "storage_url":
		return &s.StorageURL
	case "region_name", "region":
		return &s.Region
	case "username":
		return &s.Username
	case "password":
		return (*string)(&s.Password)
	case "user_domain_name":
		return &s.UserDomainName
	case "application_credential_id":
		return &s.ApplicationCredentialID
	case "application_credential_secret":
		return (*string)(&s.ApplicationCredentialSecret)
	case "auth_token":
		return (*string)(&s.AuthToken)
	case "ca_bundle":
		return &s.CABundle
	}
	return nil
}

func swiftKeys() []string {
	keys := []string{"type", "containers", "region", "read_only"}
	for _, kv := range SwiftEnv() {
		keys = append(keys, kv[0])
	}
	return keys
}

func parseSwift(n *yaml.Node, where string) (*Swift, error) {
	s := &Swift{From: map[string]string{}}
	err := eachKey(n, where, swiftKeys(), func(key string, v *yaml.Node) error {
		w := where + "." + key
		switch key {
		case "type":
			return nil
		case "read_only":
			ro, err := boolean(v, w)
			s.Writable = !ro
			return err
		case "containers":
			var err error
			s.Containers, err = stringList(v, w)
			for i, c := range s.Containers {
				if c == "" || strings.Contains(c, "/") {
					return fmt.Errorf("line %d: %s[%d]: %q is not a container name", v.Line, w, i, c)
				}
			}
			return err
		}
		if key == "region" {
			key = "region_name"
		}
		if s.From[key] != "" {
			return fmt.Errorf("line %d: %s: region and region_name are the same key; give one", v.Line, w)
		}
		val, err := scalar(v, w)
		if err != nil {
			return err
		}
		*s.field(key) = val
		s.From[key] = "config"
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// ApplyEnv fills every key the config left empty from its environment
// variable (SwiftEnv) and records where it came from.
func (s *Swift) ApplyEnv(getenv func(string) string) {
	if s.From == nil {
		s.From = map[string]string{}
	}
	for _, kv := range SwiftEnv() {
		p := s.field(kv[0])
		if *p != "" {
			continue
		}
		for _, name := range strings.Fields(kv[1]) {
			if v := getenv(name); v != "" {
				*p, s.From[kv[0]] = v, name
				break
			}
		}
	}
}

// Method returns the login route: auth_type normalised, or inferred from
// the keys that are set when auth_type is empty.
func (s *Swift) Method() (string, error) {
	switch strings.ToLower(s.AuthType) {
	case "v3oidcaccesstoken", "oidcaccesstoken":
		return AuthOIDC, nil
	case "password", "v3password":
		return AuthPassword, nil
	case "v3applicationcredential", "applicationcredential", "application_credential":
		return AuthAppCredential, nil
	case "token", "v3token", "admin_token":
		return AuthToken, nil
	case "v1", "v1password", "tempauth":
		return AuthV1, nil
	case "":
	default:
		return "", fmt.Errorf("auth_type %q (from %s) is not supported: use v3oidcaccesstoken, password, v3applicationcredential, token or v1", s.AuthType, s.From["auth_type"])
	}
	switch {
	case s.AuthToken != "":
		return AuthToken, nil
	case s.ApplicationCredentialID != "":
		return AuthAppCredential, nil
	case s.AccessToken != "" || s.RefreshToken != "":
		return AuthOIDC, nil
	case s.Username != "" && strings.Contains(s.AuthURL, "/auth/v1"):
		return AuthV1, nil
	case s.Username != "":
		return AuthPassword, nil
	}
	return "", fmt.Errorf("cannot tell how to log in: set auth_type (OS_AUTH_TYPE) and its keys, e.g. OS_ACCESS_TOKEN for EGI Check-in")
}

// Check reports the first missing key of the route, naming its
// environment variable.
func (s *Swift) Check() error {
	m, err := s.Method()
	if err != nil {
		return err
	}
	var need []string
	switch m {
	case AuthOIDC:
		need = []string{"auth_url"}
		if s.AccessToken == "" && s.RefreshToken == "" && s.OIDCSocket == "" {
			return fmt.Errorf("auth_type %s needs access_token (OS_ACCESS_TOKEN, OIDC_ACCESS_TOKEN), refresh_token (OIDC_REFRESH_TOKEN) or a running oidc-agent (OIDC_SOCK)", m)
		}
	case AuthPassword:
		need = []string{"auth_url", "username", "password"}
	case AuthAppCredential:
		need = []string{"auth_url", "application_credential_id", "application_credential_secret"}
	case AuthToken:
		need = []string{"auth_token", "storage_url"}
	case AuthV1:
		need = []string{"auth_url", "username", "password"}
	}
	env := map[string]string{}
	for _, kv := range SwiftEnv() {
		env[kv[0]] = strings.Fields(kv[1])[0]
	}
	for _, k := range need {
		if *s.field(k) == "" {
			return fmt.Errorf("auth_type %s needs %s (or %s in the environment)", m, k, env[k])
		}
	}
	for _, k := range []string{"auth_url", "storage_url", "oidc_issuer"} {
		if v := *s.field(k); v != "" {
			if err := checkURL(v); err != nil {
				return fmt.Errorf("%s (from %s): %w", k, s.From[k], err)
			}
		}
	}
	return nil
}

// Endpoint is the storage URL when known, else the auth URL.
func (s *Swift) Endpoint() string {
	if s.StorageURL != "" {
		return s.StorageURL
	}
	return s.AuthURL
}

// Resolve applies the environment fallbacks of the swift remotes and links
// each s3 remote's credentials_from to its swift remote.
func (c *Config) Resolve(getenv func(string) string) error {
	for i := range c.Remotes {
		if sw := c.Remotes[i].Swift; sw != nil {
			sw.ApplyEnv(getenv)
		}
	}
	for i := range c.Remotes {
		s3 := c.Remotes[i].S3
		if s3 == nil || s3.CredentialsFrom == "" {
			continue
		}
		where := "remotes." + c.Remotes[i].Name + ".credentials_from"
		from, ok := c.Remote(s3.CredentialsFrom)
		if !ok || from.Swift == nil {
			return fmt.Errorf("%s: %q is not a swift remote of this config", where, s3.CredentialsFrom)
		}
		s3.CredentialsSwift = from.Swift
	}
	return nil
}

// DefaultEOSCS3Endpoint is the S3 endpoint the pangeo-eosc how-to names.
const DefaultEOSCS3Endpoint = "https://object-store.cloud.muni.cz"

// builtinEOSC returns the pangeo-eosc remotes when the environment holds
// an OpenStack login (OS_AUTH_URL): eosc, Swift with every key from the
// OS_* variables, and eosc-s3, the same project through S3 with EC2
// credentials from eosc's login, at AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL
// (else DefaultEOSCS3Endpoint). eosc-s3 is left out for routes without
// Keystone (token, v1), which cannot have EC2 credentials.
func builtinEOSC(getenv func(string) string) []Remote {
	if getenv("OS_AUTH_URL") == "" {
		return nil
	}
	sw := &Swift{}
	sw.ApplyEnv(getenv)
	out := []Remote{{Name: "eosc", Type: "swift", Swift: sw}}
	if m, err := sw.Method(); err != nil || m == AuthToken || m == AuthV1 {
		return out
	}
	ep := getenv("AWS_ENDPOINT_URL_S3")
	if ep == "" {
		ep = getenv("AWS_ENDPOINT_URL")
	}
	if ep == "" {
		ep = DefaultEOSCS3Endpoint
	}
	// RGW accepts the AWS default region; the Swift region name need not
	// be an S3 one.
	return append(out, Remote{Name: "eosc-s3", Type: "s3", S3: &S3{
		Endpoint: ep, Region: DefaultRegion, CredentialsFrom: "eosc", CredentialsSwift: sw,
	}})
}
