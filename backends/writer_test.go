package backends

import (
	"testing"
	"time"
)

func TestMtimeFormat(t *testing.T) {
	tests := []struct {
		text string
		want time.Time
		ok   bool
	}{
		{"1700000000.123456789", time.Unix(1700000000, 123456789), true},
		{"1700000000.5", time.Unix(1700000000, 500000000), true},
		{"1700000000", time.Unix(1700000000, 0), true},
		{"-5.000000001", time.Unix(-5, 1), true},
		{"", time.Time{}, false},
		{"1.1234567891", time.Time{}, false},
		{"abc.1", time.Time{}, false},
		{"1.x", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, ok := ParseMtime(tt.text)
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Errorf("ParseMtime(%q) = %v, %v; want %v, %v", tt.text, got, ok, tt.want, tt.ok)
			}
		})
	}
	now := time.Unix(1732000000, 42)
	if got, ok := ParseMtime(FormatMtime(now)); !ok || !got.Equal(now) || FormatMtime(now) != "1732000000.000000042" {
		t.Errorf("round trip of %v: %q -> %v", now, FormatMtime(now), got)
	}
}
