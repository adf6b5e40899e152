// Command jack is Jack's one binary: `jack server` runs the daemon, and
// every other verb is a client of its HTTP API, found through JACK_API,
// `jack login` or the local server's pointer (target.go). Each verb lives
// in its own file, and newRoot (cli.go) lists them all.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, newCLI(), os.Args[1:])
	stop()
	os.Exit(code)
}
