package router

import (
	"slices"
	"testing"
	"time"
)

// TestARouterReadsBackTheConfigItIsStartedWith pins Args and ParseArgs as
// inverses: the daemon starts `jack router` with a Config's Args, and the
// router serves with what it parses from them.
func TestARouterReadsBackTheConfigItIsStartedWith(t *testing.T) {
	for name, cfg := range map[string]Config{
		"plain":        {DataDir: "/var/lib/jack", HTTPAddr: ":80"},
		"empty":        {},
		"hand-off":     {DataDir: "/var/lib/jack", HTTPAddr: "127.0.0.1:8080", Handoff: true},
		"odd values":   {DataDir: "/srv/my jack/--data", HTTPAddr: "[::1]:8080"},
		"HTTPS":        {DataDir: "/d", HTTPAddr: ":80", HTTPSAddr: ":443"},
		"ACME off":     {DataDir: "/d", HTTPAddr: ":80", HTTPSAddr: ":443", ACME: ACMEConfig{DirectoryURL: "off"}},
		"private ACME": {DataDir: "/d", HTTPAddr: ":80", HTTPSAddr: ":443", Handoff: true, ACME: ACMEConfig{DirectoryURL: "https://ca.internal/dir", Email: "ops@example.com", CACertFile: "/etc/jack/ca.pem", RenewBefore: 720 * time.Hour}},
	} {
		got, err := ParseArgs(cfg.Args())
		if err != nil || got != cfg {
			t.Errorf("%s: %q reads back as %+v, %v; want %+v", name, cfg.Args(), got, err, cfg)
		}
	}
}

// TestTheCommandLineOfARouterIsAsBefore pins the flags a daemon passes: a
// newer jack's router reads what an older daemon wrote, and Ensure tells
// routers apart by what they serve.
func TestTheCommandLineOfARouterIsAsBefore(t *testing.T) {
	cfg := Config{DataDir: "/d", HTTPAddr: ":80", HTTPSAddr: ":443",
		ACME: ACMEConfig{DirectoryURL: "https://ca/dir", Email: "a@b.c", CACertFile: "/ca.pem", RenewBefore: time.Hour}}
	want := []string{"--data", "/d", "--http", ":80", "--https", ":443", "--acme-ca", "https://ca/dir",
		"--acme-email", "a@b.c", "--acme-ca-cert", "/ca.pem", "--acme-renew-before", "1h0m0s"}
	if got := cfg.Args(); !slices.Equal(got, want) {
		t.Errorf("Args: %q, want %q", got, want)
	}
	// ACME settings go only with HTTPS, the only one that uses them.
	cfg.HTTPSAddr = ""
	cfg.Handoff = true
	if got, want := cfg.Args(), []string{"--data", "/d", "--http", ":80", "--handoff"}; !slices.Equal(got, want) {
		t.Errorf("Args without HTTPS: %q, want %q", got, want)
	}
}

func TestParseArgsGivesTheDefaultsOfJackRouterAndRefusesWhatItDoesNotKnow(t *testing.T) {
	got, err := ParseArgs(nil)
	if want := (Config{DataDir: "/var/lib/jack", HTTPAddr: ":80"}); err != nil || got != want {
		t.Errorf("no flags: %+v, %v; want %+v", got, err, want)
	}
	for _, args := range [][]string{{"--listen", ":80"}, {"--data", "/d", "extra"}, {"--acme-renew-before", "soon"}, {"--http"}} {
		if _, err := ParseArgs(args); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}
