package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jack-paas/jack/internal/dockertest"
)

func TestRegistryCredentialsAreCheckedKeptSealedAndNeverShown(t *testing.T) {
	d := startDaemon(t)
	reg := dockertest.StartRegistry(t, "ci", "pa55-w0rd-e2e")

	// A wrong password is refused by the registry and nothing is kept.
	r := d.jackIn("wrong\n", "registries", "add", reg.Host, "--username", "ci", "--password-stdin")
	if r.code != 1 || !strings.Contains(r.stderr, "refused the credentials") {
		t.Fatalf("a wrong password: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out := d.ok("registries"); !strings.Contains(out, "No registry credentials") {
		t.Fatalf("after a refused add: %q", out)
	}
	if r := d.jack("registries", "add", reg.Host, "--username", "ci"); r.code != 2 {
		t.Fatalf("without --password-stdin: exit %d\n%s", r.code, r.stderr)
	}

	d.jackIn("pa55-w0rd-e2e\n", "registries", "add", reg.Host, "--username", "ci", "--password-stdin")
	out := d.ok("registries")
	if !strings.Contains(out, reg.Host) || !strings.Contains(out, "ci") {
		t.Fatalf("registries: %q", out)
	}
	if js := d.ok("registries", "--json"); strings.Contains(js, "pa55") || strings.Contains(js, "password") {
		t.Fatalf("the JSON list shows a password: %s", js)
	}
	// Nothing in the data folder holds the password in clear.
	filepath.Walk(d.data, func(path string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			if b, _ := os.ReadFile(path); bytes.Contains(b, []byte("pa55-w0rd-e2e")) {
				t.Errorf("%s holds the password in clear", path)
			}
		}
		return nil
	})
	if strings.Contains(d.log.String(), "pa55-w0rd-e2e") {
		t.Error("the server's log shows the password")
	}

	d.ok("registries", "remove", reg.Host)
	if r := d.jack("registries", "remove", reg.Host); r.code != 1 || !strings.Contains(r.stderr, "no credentials") {
		t.Fatalf("removing twice: exit %d %s", r.code, r.stderr)
	}
}
