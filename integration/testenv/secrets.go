package testenv

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Secrets in logs. Every mount's log is checked when the mount is closed:
// no line may hold a credential the test gave earthmount (config file,
// environment, icoscp_core credentials file) or a token shaped like the
// ones the servers and emulators hand out. The error names the kind and
// the line number, never the value.

// secret is one value that must not be printed.
type secret struct {
	what  string // where it came from, e.g. "config remotes.s3.secret_access_key"
	value string
}

// minSecretLen keeps short values ("ok", "1") from matching by chance.
const minSecretLen = 6

// tokenShapes are tokens earthmount receives at run time, which no test
// knows in advance: JWTs (OIDC), OIDC refresh tokens and Keystone tokens of
// the emulators, Swift tempauth tokens, and cpauth cookies.
var tokenShapes = []struct {
	what string
	re   *regexp.Regexp
}{
	{"a JWT", regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.`)},
	{"an OIDC refresh token", regexp.MustCompile(`\brt-[0-9a-f]{32}\b`)},
	{"a Keystone token", regexp.MustCompile(`\bunscoped-[0-9a-f]{32}\b`)},
	{"a Swift token", regexp.MustCompile(`\bAUTH_tk[0-9a-f]{16,}`)},
	{"a cpauth cookie", regexp.MustCompile(`(cpauthToken|fieldsitesToken)=[A-Za-z0-9+/]{16,}`)},
}

// secretKey matches config keys and environment variables that hold a
// credential (not its file or URL).
var secretKey = regexp.MustCompile(`(?i)(secret|password|token|cookie|_key)$`)

// mountSecrets collects what the mount of opts must never print: values of
// secret keys in its config file and environment, and the password and
// cookie of an icoscp_core credentials file below its HOME.
func mountSecrets(opts MountOptions, env []string) []secret {
	var out []secret
	if opts.Config != "" {
		if data, err := os.ReadFile(opts.Config); err == nil {
			var doc yaml.Node
			if yaml.Unmarshal(data, &doc) == nil {
				out = appendYAMLSecrets(out, &doc, "config ")
			}
		}
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if secretKey.MatchString(k) && len(v) >= minSecretLen {
			out = append(out, secret{"environment " + k, v})
		}
	}
	return append(out, icosSecrets(opts.Home)...)
}

func appendYAMLSecrets(out []secret, n *yaml.Node, path string) []secret {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			out = appendYAMLSecrets(out, c, path)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i].Value, n.Content[i+1]
			if v.Kind == yaml.ScalarNode && secretKey.MatchString(k) && len(v.Value) >= minSecretLen {
				out = append(out, secret{path + k, v.Value})
			}
			out = appendYAMLSecrets(out, v, path+k+".")
		}
	}
	return out
}

// ICOSCredentialsFile is icoscp_core's credentials file below HOME:
// {"user_id": ..., "password": <each byte complemented, hex>,
// "cookie_value": "cpauthToken=<base64>;"}.
const ICOSCredentialsFile = ".icoscp/cpauthToken_auth_conf.json"

// icosSecrets reads the icoscp_core credentials file below home, if any.
func icosSecrets(home string) []secret {
	if home == "" {
		return nil
	}
	data, err := os.ReadFile(filepath.Join(home, ICOSCredentialsFile))
	if err != nil {
		return nil
	}
	var doc struct {
		Password string `json:"password"`
		Cookie   string `json:"cookie_value"`
	}
	if json.Unmarshal(data, &doc) != nil {
		return nil
	}
	var out []secret
	if pw, err := hex.DecodeString(doc.Password); err == nil && len(pw) >= minSecretLen {
		for i := range pw {
			pw[i] ^= 0xff
		}
		out = append(out, secret{"icoscp_core password", string(pw)})
	}
	_, v, _ := strings.Cut(doc.Cookie, "=")
	if v = strings.TrimSpace(strings.TrimRight(v, "; ")); len(v) >= minSecretLen {
		out = append(out, secret{"icoscp_core cookie", v})
	}
	return out
}

// CheckLogSecrets reads the log at path and returns an error for every
// line holding one of the secrets or a token shape: the kind and line
// number, never the value. A missing log is no error.
func CheckLogSecrets(path string, secrets []secret) error {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var found []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		for _, s := range secrets {
			if containsWord(line, s.value) {
				found = append(found, fmt.Sprintf("line %d shows the %s", n, s.what))
			}
		}
		for _, sh := range tokenShapes {
			if sh.re.MatchString(line) {
				found = append(found, fmt.Sprintf("line %d shows %s", n, sh.what))
			}
		}
	}
	if len(found) == 0 {
		return nil
	}
	if len(found) > 10 {
		found = append(found[:10], fmt.Sprintf("and %d more", len(found)-10))
	}
	return fmt.Errorf("earthmount log %s leaks secrets: %s", path, strings.Join(found, "; "))
}

// containsWord reports whether s occurs in line not as part of a longer
// word, so that a short test password ("testing") does not match
// unrelated text ("attesting").
func containsWord(line, s string) bool {
	for i := 0; ; {
		j := strings.Index(line[i:], s)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(s)
		if (start == 0 || !wordByte(line[start-1])) && (end == len(line) || !wordByte(line[end])) {
			return true
		}
		i = start + 1
	}
}

func wordByte(c byte) bool {
	return c == '_' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
