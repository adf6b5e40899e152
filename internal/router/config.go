package router

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Config is what a router process serves with. Its first fields are its
// command line: the flags of `jack router` (AddFlags), which the daemon
// starts a router with (Args) and a router reads back (ParseArgs). A new
// jack starts its router with its own Args, and a running router with
// other settings is replaced (Ensure).
type Config struct {
	DataDir   string // holds router.sock, routes.json, router.pid, certs/, acme/
	HTTPAddr  string // where to serve HTTP, e.g. ":80"
	HTTPSAddr string // where to serve HTTPS, e.g. ":443"; "" for none
	// ACME configures certificates obtained automatically; with HTTPS
	// only, and on the command line only then.
	ACME ACMEConfig
	// Handoff takes the listening sockets from the router that answers on
	// the data folder's control socket, instead of opening them, so that
	// replacing a router refuses no connection (see handoff.go).
	Handoff bool

	// The rest is not on the command line: a router in a test process sets
	// it.

	// AccessLogLimit is the size past which the access log is rotated; 0
	// means 64 MiB.
	AccessLogLimit int64
	Logger         *slog.Logger
	// ShutdownTimeout bounds how long a stopping router waits for requests
	// in flight; zero means 30s.
	ShutdownTimeout time.Duration
}

// AddFlags adds the flags of `jack router` to f, each setting its field of
// cfg.
func (cfg *Config) AddFlags(f *pflag.FlagSet) {
	f.StringVar(&cfg.DataDir, "data", "/var/lib/jack", "the server's data folder")
	f.StringVar(&cfg.HTTPAddr, "http", ":80", "address to serve HTTP on")
	AddHTTPSFlags(f, &cfg.HTTPSAddr, &cfg.ACME)
	f.BoolVar(&cfg.Handoff, "handoff", false, "take the listening sockets of the router running on --data")
}

// AddHTTPSFlags adds the HTTPS flags of `jack router` to f; `jack server`
// takes them too, to pass them on.
func AddHTTPSFlags(f *pflag.FlagSet, httpsAddr *string, acme *ACMEConfig) {
	f.StringVar(httpsAddr, "https", "", "address the router serves HTTPS on, e.g. :443 (default: no HTTPS)")
	f.StringVar(&acme.DirectoryURL, "acme-ca", "", "ACME directory URL for automatic certificates (default Let's Encrypt; \"off\" for none)")
	f.StringVar(&acme.Email, "acme-email", "", "contact address given to the ACME CA")
	f.StringVar(&acme.CACertFile, "acme-ca-cert", "", "PEM root the ACME server's own certificate chains to (a private CA)")
	f.DurationVar(&acme.RenewBefore, "acme-renew-before", 0, "renew certificates this long before they expire (default a third of their life, at most 30 days)")
}

// Args returns the flags `jack router` is started with to serve cfg, the
// inverse of ParseArgs. ACME's settings go only with HTTPS, which alone
// uses them.
func (cfg Config) Args() []string {
	args := []string{"--data", cfg.DataDir, "--http", cfg.HTTPAddr}
	if cfg.HTTPSAddr != "" {
		args = append(args, "--https", cfg.HTTPSAddr)
		if cfg.ACME.DirectoryURL != "" {
			args = append(args, "--acme-ca", cfg.ACME.DirectoryURL)
		}
		if cfg.ACME.Email != "" {
			args = append(args, "--acme-email", cfg.ACME.Email)
		}
		if cfg.ACME.CACertFile != "" {
			args = append(args, "--acme-ca-cert", cfg.ACME.CACertFile)
		}
		if cfg.ACME.RenewBefore != 0 {
			args = append(args, "--acme-renew-before", cfg.ACME.RenewBefore.String())
		}
	}
	if cfg.Handoff {
		args = append(args, "--handoff")
	}
	return args
}

// ParseArgs returns the Config of a router started with the flags args,
// the inverse of Args; flags left out have their defaults.
func ParseArgs(args []string) (Config, error) {
	var cfg Config
	f := pflag.NewFlagSet("router", pflag.ContinueOnError)
	f.SetOutput(io.Discard)
	cfg.AddFlags(f)
	if err := f.Parse(args); err != nil {
		return Config{}, fmt.Errorf("parse the router's arguments: %w", err)
	}
	if f.NArg() > 0 {
		return Config{}, fmt.Errorf("parse the router's arguments: unexpected %q", f.Arg(0))
	}
	return cfg, nil
}

// settings identifies what a router serves, beyond its version: a running
// router with other settings is replaced.
func (cfg Config) settings() string {
	s := "http=" + cfg.HTTPAddr
	if cfg.HTTPSAddr != "" {
		acme := cfg.ACME
		s = strings.Join([]string{s, "https=" + cfg.HTTPSAddr, "acme=" + acme.DirectoryURL,
			"email=" + acme.Email, "ca=" + acme.CACertFile, "renew=" + acme.RenewBefore.String()}, " ")
	}
	// The router inherits the environment of the server that starts it, so
	// both sides read the same count; a change replaces the router.
	if loops := os.Getenv(loopsEnv); loops != "" {
		s += " loops=" + loops
	}
	return s
}
