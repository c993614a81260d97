// Command icos-emulator serves the ICOS portal emulator (integration/icosemu)
// on one address and prints the earthmount config of a remote that uses
// it. The built-in account test@example.org / test-password has accepted
// the data licence:
//
//	go run ./integration/cmd/icos-emulator -addr 127.0.0.1:8765 > icos.yaml
//	earthmount login icos --config icos.yaml   # test@example.org / test-password
//	earthmount mount --config icos.yaml ~/earth
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/earthmount/earthmount/integration/icosemu"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	name := flag.String("name", "icos", "remote name in the printed config")
	validity := flag.Duration("token-validity", 0, "lifetime of login tokens (default 100000s, as the portal)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv := icosemu.New(icosemu.Options{TokenValidity: *validity})
	if err := srv.Start(ctx, *addr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("# ICOS portal emulator on %s; account %s / %s (licence accepted)\n", srv.URL, icosemu.TestUser, icosemu.TestPassword)
	fmt.Print(srv.RemoteYAML(*name))
	<-ctx.Done()
	srv.Close()
}
