package main

import "testing"

func TestICOSCredentialsPath(t *testing.T) {
	home := func(h string) func(string) string {
		return func(k string) string {
			if k == "HOME" {
				return h
			}
			return ""
		}
	}
	for _, c := range []struct {
		setting, home, want string
		fails               bool
	}{
		{"", "/home/u", "/home/u/.icoscp/cpauthToken_auth_conf.json", false},
		{"~/x/c.json", "/home/u", "/home/u/x/c.json", false},
		{"/etc/icos.json", "", "/etc/icos.json", false},
		{"", "", "", false},
		{"~/c.json", "", "", true},
	} {
		got, err := icosCredentialsPath(c.setting, home(c.home))
		if got != c.want || (err != nil) != c.fails {
			t.Errorf("icosCredentialsPath(%q, HOME=%q) = %q, %v; want %q", c.setting, c.home, got, err, c.want)
		}
	}
}
