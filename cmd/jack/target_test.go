package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jack-paas/jack/internal/localconf"
)

func TestTargetDiscoveryOrder(t *testing.T) {
	const remote = "https://jack.example.com"
	type setup struct {
		env         map[string]string
		login       *localconf.Login
		localServer bool // a pointer to http://127.0.0.1:7171 with token "local-token"
		adminToken  bool // the default admin token file holds "admin-token"
	}
	for _, tc := range []struct {
		name  string
		setup setup
		want  target
	}{
		{"nothing", setup{}, target{API: defaultAPI}},
		{"admin token file for the default local API", setup{adminToken: true}, target{API: defaultAPI, Token: "admin-token"}},
		{"local server pointer", setup{localServer: true, adminToken: true},
			target{API: "http://127.0.0.1:7171", Token: "local-token"}},
		{"login beats local server", setup{login: &localconf.Login{API: remote, Token: "login-token"}, localServer: true},
			target{API: remote, Token: "login-token"}},
		{"env beats login", setup{env: map[string]string{"JACK_API": "http://10.0.0.5:7070", "JACK_TOKEN": "env-token"},
			login: &localconf.Login{API: remote, Token: "login-token"}},
			target{API: "http://10.0.0.5:7070", Token: "env-token"}},
		{"JACK_TOKEN alone with login's API", setup{env: map[string]string{"JACK_TOKEN": "env-token"},
			login: &localconf.Login{API: remote, Token: "login-token"}},
			target{API: remote, Token: "env-token"}},
		{"login's token not sent to another API", setup{env: map[string]string{"JACK_API": "https://other.example.com"},
			login: &localconf.Login{API: remote, Token: "login-token"}},
			target{API: "https://other.example.com"}},
		{"admin token not sent to a remote API", setup{env: map[string]string{"JACK_API": remote}, localServer: true, adminToken: true},
			target{API: remote}},
		{"localhost and 127.0.0.1 are the same server", setup{env: map[string]string{"JACK_API": "http://localhost:7171/"}, localServer: true},
			target{API: "http://localhost:7171", Token: "local-token"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := isolate(t)
			for k, v := range tc.setup.env {
				t.Setenv(k, v)
			}
			if tc.setup.login != nil {
				if err := localconf.WriteLogin(*tc.setup.login); err != nil {
					t.Fatal(err)
				}
			}
			if tc.setup.localServer {
				tokenFile := filepath.Join(dir, "data", "admin-token")
				writeFile(t, tokenFile, "local-token\n", 0o600)
				if err := localconf.WriteLocalServer("http://127.0.0.1:7171", tokenFile); err != nil {
					t.Fatal(err)
				}
			}
			c := &cli{adminTokenFile: filepath.Join(dir, "var-lib-jack", "admin-token")}
			if tc.setup.adminToken {
				writeFile(t, c.adminTokenFile, "admin-token\n", 0o600)
			}
			got, err := c.target()
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("target = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestLoginChecksTheTokenThenRemembersIt(t *testing.T) {
	srv := newAPI(t)
	t.Setenv("JACK_API", "")
	t.Setenv("JACK_TOKEN", "")
	if r := runJack(t, "login", "--api", srv.URL, "--token", "wrong"); r.code != exitFailed {
		t.Fatalf("login with a wrong token: exit %d stderr %q", r.code, r.stderr)
	}
	if l, _ := localconf.ReadLogin(); l != nil {
		t.Fatalf("a refused login was saved: %+v", l)
	}
	r := jackWith(t, &cli{stdin: strings.NewReader("test-token\n"), stdinIsTerminal: func() bool { return false }}, "login", "--api", srv.URL)
	if r.code != 0 {
		t.Fatalf("login: exit %d stderr %q", r.code, r.stderr)
	}
	path, _ := localconf.LoginPath()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("login file: %v, %v; want mode 0600", fi, err)
	}
	mustRun(t, "apps") // the stored API and token work
}
