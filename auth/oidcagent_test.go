package auth

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeAgent answers oidc-agent requests on a UNIX socket.
func fakeAgent(t *testing.T, answer func(req map[string]any) map[string]any) string {
	dir, err := os.MkdirTemp("", "oa") // socket paths must be short
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			var req map[string]any
			if json.NewDecoder(c).Decode(&req) == nil {
				json.NewEncoder(c).Encode(answer(req))
			}
			c.Close()
		}
	}()
	return path
}

func TestOIDCAgent(t *testing.T) {
	exp := time.Now().Add(time.Hour).Unix()
	var got map[string]any
	sock := fakeAgent(t, func(req map[string]any) map[string]any {
		got = req
		if req["account"] == "egi" {
			return map[string]any{"status": "success", "access_token": "agent-token", "issuer": DefaultIssuer, "expires_at": exp}
		}
		return map[string]any{"status": "failure", "error": "No account configured with that short name"}
	})
	// An expired access token, no refresh token: the agent renews it.
	o := NewOIDC(OIDCOptions{AccessToken: "expired-opaque", Agent: &OIDCAgent{Socket: sock, Account: "egi"}})
	o.cur.Expiry = time.Now().Add(-time.Minute)
	tok, err := o.Token(t.Context())
	if err != nil || tok.Value != "agent-token" || tok.Expiry.Unix() != exp {
		t.Fatalf("token %+v, %v", tok, err)
	}
	if got["request"] != "access_token" || got["application_hint"] != "earthmount" {
		t.Errorf("request %v", got)
	}
	_, err = (&OIDCAgent{Socket: sock, Account: "nope"}).Token(t.Context())
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "No account configured") {
		t.Errorf("unknown account: %v", err)
	}
	_, err = (&OIDCAgent{Socket: sock + "-missing"}).Token(t.Context())
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "OIDC_SOCK") {
		t.Errorf("no agent: %v", err)
	}
}
