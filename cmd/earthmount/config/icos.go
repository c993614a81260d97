package config

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/earthmount/earthmount/auth"
)

// The real ICOS Carbon Portal, the defaults of a type: icos remote.
const (
	ICOSMetaURL = "https://meta.icos-cp.eu"
	ICOSDataURL = "https://data.icos-cp.eu"
	ICOSAuthURL = "https://cpauth.icos-cp.eu"
)

// ICOS holds the settings of a type: icos remote. Credentials are tried
// in icoscp_core's order: CookieToken (else $ICOS_COOKIE_TOKEN), the
// CredentialsFile if it exists, Username and Password; else anonymous.
type ICOS struct {
	MetaURL string
	DataURL string
	AuthURL string
	// CredentialsFile is icoscp_core's file; "" means its default,
	// ~/.icoscp/cpauthToken_auth_conf.json (HOME decides). A leading "~/"
	// is expanded when the remote is built.
	CredentialsFile string
	CookieToken     auth.Secret
	Username        string
	Password        auth.Secret
	ShowDeprecated  bool
	// CABundle is a PEM file of CA certificates trusted in addition to the
	// system's, for the portal's three services.
	CABundle string
}

var icosKeys = []string{"type", "meta_url", "data_url", "auth_url", "credentials_file", "cookie_token", "username", "password", "show_deprecated", "ca_bundle"}

// builtinICOS is the built-in remote "icos": the real portal, browsable
// without login, readable with icoscp_core's credentials file.
func builtinICOS() Remote {
	return Remote{Name: "icos", Type: "icos", ICOS: &ICOS{MetaURL: ICOSMetaURL, DataURL: ICOSDataURL, AuthURL: ICOSAuthURL}}
}

func parseICOS(n *yaml.Node, where string) (*ICOS, error) {
	r := &ICOS{MetaURL: ICOSMetaURL, DataURL: ICOSDataURL, AuthURL: ICOSAuthURL}
	err := eachKey(n, where, icosKeys, func(key string, v *yaml.Node) error {
		w := where + "." + key
		if key == "show_deprecated" {
			b, err := boolean(v, w)
			r.ShowDeprecated = b
			return err
		}
		s, err := scalar(v, w)
		if err != nil {
			return err
		}
		switch key {
		case "meta_url", "data_url", "auth_url":
			if err := checkURL(s); err != nil {
				return fmt.Errorf("line %d: %s: %w", v.Line, w, err)
			}
			switch key {
			case "meta_url":
				r.MetaURL = s
			case "data_url":
				r.DataURL = s
			default:
				r.AuthURL = s
			}
		case "credentials_file":
			r.CredentialsFile = s
		case "ca_bundle":
			r.CABundle = s
		case "cookie_token":
			r.CookieToken = auth.Secret(s)
		case "username":
			r.Username = s
		case "password":
			r.Password = auth.Secret(s)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if (r.Username == "") != (r.Password == "") {
		return nil, fmt.Errorf("line %d: %s: username and password go together; set both or neither", n.Line, where)
	}
	return r, nil
}
