package s3

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// credChoice is where a Store gets its credentials from.
type credChoice struct {
	// provider is set for keys and anonymous access; nil when the SDK
	// resolves profile (role, SSO, process, static keys) itself.
	provider aws.CredentialsProvider
	// profile names the shared-config profile to load when provider is nil.
	profile string
	// source tells the user where credentials come from; never a secret.
	source    string
	anonymous bool
}

// sharedFiles are the shared config and credentials files. They are found
// at New time rather than through the SDK's package defaults, which are
// fixed when the program starts.
type sharedFiles struct {
	config, credentials []string
}

func findSharedFiles(env config.EnvConfig) sharedFiles {
	home, _ := os.UserHomeDir()
	pick := func(fromEnv, name string) []string {
		switch {
		case fromEnv != "":
			return []string{fromEnv}
		case home != "":
			return []string{filepath.Join(home, ".aws", name)}
		}
		return []string{}
	}
	return sharedFiles{
		config:      pick(env.SharedConfigFile, "config"),
		credentials: pick(env.SharedCredentialsFile, "credentials"),
	}
}

// chooseCredentials applies the documented order: explicit keys, the
// configured profile, the AWS environment variables (keys, then
// AWS_PROFILE), the shared files' default profile, else anonymous. It
// never falls through to the EC2 instance metadata service.
func chooseCredentials(ctx context.Context, cfg Config, env config.EnvConfig, files sharedFiles) (credChoice, error) {
	switch {
	case cfg.Credentials != nil:
		source := cfg.CredentialsSource
		if source == "" {
			source = "credentials provider"
		}
		return credChoice{provider: cfg.Credentials, source: source}, nil
	case cfg.AccessKeyID != "":
		return credChoice{
			provider: credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, ""),
			source:   "access keys from config",
		}, nil
	case cfg.Anonymous:
		return anonymousChoice(), nil
	case cfg.Profile != "":
		return profileChoice(ctx, cfg.Profile, "", files, true)
	case env.Credentials.HasKeys():
		c := env.Credentials
		return credChoice{
			provider: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
			source:   "environment (AWS_ACCESS_KEY_ID)",
		}, nil
	case env.SharedConfigProfile != "":
		return profileChoice(ctx, env.SharedConfigProfile, "AWS_PROFILE", files, true)
	}
	return profileChoice(ctx, "default", "", files, false)
}

func anonymousChoice() credChoice {
	return credChoice{provider: aws.AnonymousCredentials{}, source: "anonymous (unsigned requests)", anonymous: true}
}

// profileChoice checks that the profile exists and can yield credentials.
// A missing or empty profile is an error when it was asked for by name,
// and means anonymous access for the implicit default profile.
func profileChoice(ctx context.Context, name, via string, files sharedFiles, required bool) (credChoice, error) {
	sc, err := config.LoadSharedConfigProfile(ctx, name, func(o *config.LoadSharedConfigOptions) {
		o.ConfigFiles = files.config
		o.CredentialsFiles = files.credentials
	})
	var notExist config.SharedConfigProfileNotExistError
	switch {
	case errors.As(err, &notExist) && !required:
		return anonymousChoice(), nil
	case errors.As(err, &notExist):
		return credChoice{}, fmt.Errorf("profile %q%s not found in %s", name, viaText(via), strings.Join(append(files.credentials, files.config...), " or "))
	case err != nil:
		// The SDK's parse errors name the file and line, never a value.
		return credChoice{}, fmt.Errorf("profile %q%s: %w", name, viaText(via), err)
	}
	how := profileKind(sc)
	if how == "" {
		if !required {
			return anonymousChoice(), nil
		}
		return credChoice{}, fmt.Errorf("profile %q%s has no credentials (no keys, role, SSO or credential_process)", name, viaText(via))
	}
	if via == "" && name == "default" && !required {
		return credChoice{profile: name, source: fmt.Sprintf("shared credentials file, profile %q", name)}, nil
	}
	if via != "" {
		how = via
	}
	return credChoice{profile: name, source: fmt.Sprintf("profile %q (%s)", name, how)}, nil
}

func viaText(via string) string {
	if via == "" {
		return ""
	}
	return " (from " + via + ")"
}

// profileKind says how a profile yields credentials, or "" if it cannot.
// credential_source profiles are refused: they may name
// Ec2InstanceMetadata, which this package never uses.
func profileKind(sc config.SharedConfig) string {
	switch {
	case sc.RoleARN != "" && sc.SourceProfileName != "":
		return "assume role via profile " + sc.SourceProfileName
	case sc.Credentials.HasKeys():
		return tildeFile(sc.Credentials.Source)
	case sc.WebIdentityTokenFile != "":
		return "web identity"
	case sc.SSOSessionName != "" || sc.SSOStartURL != "":
		return "SSO"
	case sc.LoginSession != "":
		return "login session"
	case sc.CredentialProcess != "":
		return "credential_process"
	}
	return ""
}

// tildeFile turns the SDK's credential source label
// ("SharedConfigCredentials: /home/u/.aws/credentials") into a short path.
func tildeFile(src string) string {
	if _, path, ok := strings.Cut(src, ": "); ok {
		src = path
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" && strings.HasPrefix(src, home+string(filepath.Separator)) {
		return "~" + src[len(home):]
	}
	if src == "" {
		return "shared files"
	}
	return src
}
