package auth

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestEC2(t *testing.T) {
	tests := []struct {
		name                 string
		existing             []map[string]string
		refuse               bool
		wantAccess           string
		wantList, wantCreate int
	}{
		{name: "none: create one", wantAccess: "AK-new", wantList: 1, wantCreate: 1},
		{name: "reuse the project's", existing: []map[string]string{
			{"access": "AK-other", "secret": "s", "tenant_id": "p0"},
			{"access": "AK-mine", "secret": "s", "tenant_id": "p1"},
		}, wantAccess: "AK-mine", wantList: 1},
		{name: "only another project's: create", existing: []map[string]string{{"access": "AK-other", "secret": "s", "tenant_id": "p0"}},
			wantAccess: "AK-new", wantList: 1, wantCreate: 1},
		{name: "refused", refuse: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			f := newFakeIdP(t, clock)
			f.ec2, f.refuseEC2 = tt.existing, tt.refuse
			ks, _ := NewKeystone(KeystoneOptions{AuthURL: f.srv.URL, AppCredential: &AppCredential{ID: "a", Secret: "s"}})
			logs, log := newLogBuffer()
			e := NewEC2(EC2Options{AuthURL: f.srv.URL, Keystone: NewCached(ks, CachedOptions{Now: clock.Now}), Now: clock.Now, Logger: log})
			for range 3 {
				c, err := e.Credentials(t.Context())
				if tt.refuse {
					if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "EC2 credentials list") {
						t.Fatalf("error %v", err)
					}
					continue
				}
				if err != nil || c.Access != tt.wantAccess || c.Secret == "" {
					t.Fatalf("credentials %+v, %v", c, err)
				}
			}
			if tt.refuse && f.count("ec2_refused") != 1 {
				t.Errorf("%d refused requests for 3 calls, want 1 (back-off)", f.count("ec2_refused"))
			}
			if f.count("ec2_list") != tt.wantList || f.count("ec2_create") != tt.wantCreate {
				t.Errorf("list %d create %d, want %d %d", f.count("ec2_list"), f.count("ec2_create"), tt.wantList, tt.wantCreate)
			}
			if strings.Contains(logs.String(), "SK-new-secret") || strings.Contains(fmt.Sprint(e), "SK-new-secret") {
				t.Errorf("the secret was logged or printed:\n%s", logs)
			}
			clock.Advance(time.Hour)
		})
	}
}
