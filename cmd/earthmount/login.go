package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/earthmount/earthmount/auth"
	"github.com/earthmount/earthmount/cmd/earthmount/config"
)

func newLoginCmd(e *env) *cobra.Command {
	var cfgPath string
	cmd := &cobra.Command{
		Use:   "login REMOTE",
		Short: "Log in to an ICOS remote and save the credentials where icoscp_core keeps them",
		Long: `Prompt for the ICOS account's e-mail and password (not echoed), log in once to
check them, and write icoscp_core's credentials file (by default
~/.icoscp/cpauthToken_auth_conf.json, mode 0600) with the obfuscated password and
the login cookie, so that earthmount and icoscp_core share one login.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(cfgPath, e.getenv)
			if err != nil {
				return err
			}
			r, ok := cfg.Remote(args[0])
			if !ok || r.ICOS == nil {
				return fmt.Errorf("%q is not an icos remote (earthmount remotes lists them)", args[0])
			}
			return loginICOS(cmd, e, r)
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "config file (default $EARTHMOUNT_CONFIG, else $XDG_CONFIG_HOME/earthmount/config.yaml)")
	return cmd
}

func loginICOS(cmd *cobra.Command, e *env, r *config.Remote) error {
	path, err := icosCredentialsPath(r.ICOS.CredentialsFile, e.getenv)
	if err != nil {
		return err
	}
	if path == "" {
		return errors.New("HOME is not set: give the remote a credentials_file")
	}
	in := bufio.NewReader(cmd.InOrStdin())
	fmt.Fprint(e.stderr, "ICOS account e-mail: ")
	user, err := in.ReadString('\n')
	user = strings.TrimSpace(user)
	if user == "" {
		return fmt.Errorf("no e-mail given: %w", errOrEOF(err))
	}
	fmt.Fprint(e.stderr, "Password (not shown): ")
	pw, err := readPassword(cmd.InOrStdin(), in)
	fmt.Fprintln(e.stderr)
	if err != nil || pw == "" {
		return fmt.Errorf("no password given: %w", errOrEOF(err))
	}
	creds := auth.ICOSCredentials{User: user, Password: auth.Secret(pw)}
	tok, err := auth.ICOSLogin(cmd.Context(), &http.Client{Timeout: time.Minute}, r.ICOS.AuthURL, user, creds.Password)
	switch {
	case errors.Is(err, auth.ErrICOSLoginRefused):
		return fmt.Errorf("%v: nothing saved; check the e-mail and password at %s", err, r.ICOS.AuthURL)
	case err != nil:
		fmt.Fprintf(e.stderr, "warning: could not log in to check the password (%v); saving it anyway\n", err)
	default:
		creds.Cookie = tok.Cookie
	}
	if err := auth.WriteICOSCredentials(path, creds); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "saved the ICOS credentials of %s in %s\n", user, path)
	if err == nil && creds.Cookie != "" {
		fmt.Fprintf(e.stdout, "logged in; the token is valid until %s\n", tok.Expiry.Local().Format(time.RFC1123))
	}
	return nil
}

// readPassword reads a line without echo from a terminal, else from in.
func readPassword(stdin io.Reader, in *bufio.Reader) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		return string(b), err
	}
	line, err := in.ReadString('\n')
	if line = strings.TrimRight(line, "\r\n"); line != "" {
		err = nil
	}
	return line, err
}

func errOrEOF(err error) error {
	if err == nil {
		return io.ErrUnexpectedEOF
	}
	return err
}
