package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/earthmount/earthmount/cmd/earthmount/config"
)

func newRemotesCmd(e *env) *cobra.Command {
	var cfgPath string
	cmd := &cobra.Command{
		Use:   "remotes",
		Short: "List the configured remotes and the credentials each would use (never a secret)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(cfgPath, e.getenv)
			if err != nil {
				return err
			}
			src := "built-in defaults (no config file)"
			if cfg.Path != "" {
				src = cfg.Path
			}
			fmt.Fprintf(e.stdout, "config: %s\n", src)
			var all []*config.Remote
			for i := range cfg.Remotes {
				all = append(all, &cfg.Remotes[i])
			}
			for _, f := range loosePerms(credentialFiles(cfg, all, e.getenv)) {
				fmt.Fprintf(e.stderr, "warning: %s %s (mode %04o) holds credentials and is readable by group or others; run chmod 600 on it\n", f.what, f.path, f.mode)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tTYPE\tACCESS\tENDPOINT\tTOP LEVEL\tCREDENTIALS")
			for i := range cfg.Remotes {
				r := &cfg.Remotes[i]
				st, err := newStore(cmd.Context(), r, nil)
				creds := ""
				if err != nil {
					creds = "error: " + err.Error()
				} else {
					creds = st.credentials
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Type, access(r), r.Endpoint(), topLevel(r), creds)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "config file (default $EARTHMOUNT_CONFIG, else $XDG_CONFIG_HOME/earthmount/config.yaml)")
	return cmd
}

// topLevel describes a remote's top-level directories.
func topLevel(r *config.Remote) string {
	if r.S3 != nil {
		if len(r.S3.Buckets) == 0 {
			return "(listed from the endpoint)"
		}
		return strings.Join(r.S3.Buckets, ",")
	}
	if r.Swift != nil {
		if len(r.Swift.Containers) == 0 {
			return "(containers listed from the account)"
		}
		return strings.Join(r.Swift.Containers, ",")
	}
	if r.ICOS != nil {
		return "data types (SPARQL), objects/<id>"
	}
	return ""
}

// access says whether writes through the mount reach the remote (config
// read_only: false) or are refused with EROFS.
func access(r *config.Remote) string {
	if remoteWritable(r) {
		return "read-write"
	}
	return "read-only"
}
