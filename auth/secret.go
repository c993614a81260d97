package auth

import "log/slog"

// Secret is a credential (a secret key, a password, a token). It prints and
// logs as a fixed mask, so a config or error that carries one never leaks
// it; Reveal returns the value for the one place that sends it.
type Secret string

const mask = "[redacted]"

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer with a mask.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return mask
}

// GoString masks %#v too.
func (s Secret) GoString() string { return s.String() }

// LogValue implements slog.LogValuer with a mask.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
