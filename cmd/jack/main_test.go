package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jack-paas/jack/internal/httpapi/httpapitest"
	"github.com/spf13/cobra"
)

// result is what one run of the CLI printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

// runJack runs the CLI in process with args, stdin not a terminal, and the
// admin token file pointed at a file that does not exist.
func runJack(t *testing.T, args ...string) result {
	t.Helper()
	return jackWith(t, &cli{stdin: strings.NewReader(""), stdinIsTerminal: func() bool { return false }}, args...)
}

// jackWith runs the CLI with c's stdin and terminal check.
func jackWith(t *testing.T, c *cli, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	c.stdout, c.stderr = &stdout, &stderr
	if c.adminTokenFile == "" {
		c.adminTokenFile = filepath.Join(t.TempDir(), "no-admin-token")
	}
	code := run(context.Background(), c, args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// isolate gives the test its own config folder and no JACK_* variables.
func isolate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("HOME", dir)
	t.Setenv("JACK_API", "")
	t.Setenv("JACK_TOKEN", "")
	return dir
}

// newAPI starts a test API and points the CLI at it through the
// environment.
func newAPI(t *testing.T) *httpapitest.Server {
	t.Helper()
	isolate(t)
	srv := httpapitest.New(t)
	t.Setenv("JACK_API", srv.URL)
	t.Setenv("JACK_TOKEN", httpapitest.Token)
	return srv
}

// mustRun runs the CLI and fails the test unless it exits 0.
func mustRun(t *testing.T, args ...string) result {
	t.Helper()
	r := runJack(t, args...)
	if r.code != 0 {
		t.Fatalf("jack %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// writeFile writes a file for a test.
func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	newAPI(t)
	for _, args := range [][]string{
		{"nosuch"},
		{"deploy"},
		{"deploy", "notes/production"}, // neither --image nor --version
		{"deploy", "notes/production", "--image", "a", "--version", "v1"},    // both
		{"deploy", "notes/production", "--image", "a", "--strategy", "yolo"}, // unknown strategy
		{"deploy", "notes/production", "--image", "a", "--timeout", "soon"},  // bad duration
		{"deploy", "notes", "--image", "a"},                                  // not APP/ENV
		{"deploy", "notes/production", "--bogus"},
		{"apps", "extra"},
		{"apps", "create", "Bad_Name"},
		{"envs", "create", "notes/production", "--tier", "gpu"},
		{"config", "set", "notes/production", "NOEQUALS"},
		{"config", "set", "notes/production"},
		{"scale", "notes/production", "web=many"},
		{"rollback", "notes/production", "--to", "-1"},
		{"apps", "delete", "notes"}, // no --yes, no terminal
	} {
		r := runJack(t, args...)
		if r.code != exitUsage {
			t.Errorf("jack %s: exit %d, want 2; stderr %q", strings.Join(args, " "), r.code, r.stderr)
			continue
		}
		if !strings.HasPrefix(r.stderr, "jack: ") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("jack %s: stderr %q, want one line starting with jack:", strings.Join(args, " "), r.stderr)
		}
	}
	if r := runJack(t, "apps", "delete", "notes"); !strings.Contains(r.stderr, "refusing to delete without --yes") {
		t.Errorf("delete without --yes said %q", r.stderr)
	}
}

func TestAPIErrorsExit1WithOneLine(t *testing.T) {
	newAPI(t)
	mustRun(t, "apps", "create", "notes")
	r := runJack(t, "apps", "create", "notes")
	if r.code != exitFailed || !strings.HasPrefix(r.stderr, "jack: ") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("second create: exit %d stderr %q, want 1 and one jack: line", r.code, r.stderr)
	}
	if r := runJack(t, "status", "notes/ghost"); r.code != exitFailed {
		t.Fatalf("status of a missing env: exit %d, stderr %q", r.code, r.stderr)
	}
	t.Setenv("JACK_TOKEN", "wrong")
	r = runJack(t, "apps")
	if r.code != exitFailed || !strings.Contains(r.stderr, "jack login") {
		t.Fatalf("wrong token: exit %d stderr %q", r.code, r.stderr)
	}
}

func TestDeleteAsksAtATerminal(t *testing.T) {
	newAPI(t)
	mustRun(t, "apps", "create", "notes")
	terminal := func(answer string) *cli {
		return &cli{stdin: strings.NewReader(answer), stdinIsTerminal: func() bool { return true }}
	}
	if r := jackWith(t, terminal("n\n"), "apps", "delete", "notes"); r.code != exitFailed || !strings.Contains(r.stderr, "[y/N]") {
		t.Fatalf("answered n: exit %d stderr %q", r.code, r.stderr)
	}
	mustRun(t, "apps", "list") // still there
	if r := jackWith(t, terminal("y\n"), "apps", "delete", "notes"); r.code != 0 {
		t.Fatalf("answered y: exit %d stderr %q", r.code, r.stderr)
	}
	if r := mustRun(t, "apps", "--json"); strings.TrimSpace(r.stdout) != "[]" {
		t.Fatalf("apps after delete: %q", r.stdout)
	}
}

// mustAtoi parses a number the CLI printed.
func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAddedCommandsExit1OnFailureAnd2OnUsage(t *testing.T) {
	isolate(t)
	fake := func(c *cli) *cobra.Command {
		return &cobra.Command{
			Use:  "fake",
			Args: argsBetween(0, 0),
			RunE: func(cmd *cobra.Command, args []string) error { return errors.New("listen on :80: permission denied") },
		}
	}
	if r := runTreeWith(t, fake, "fake"); r.code != exitFailed || r.stderr != "jack: listen on :80: permission denied\n" {
		t.Fatalf("failing added command: exit %d stderr %q", r.code, r.stderr)
	}
	if r := runTreeWith(t, fake, "fake", "extra"); r.code != exitUsage {
		t.Fatalf("added command with a wrong argument: exit %d stderr %q", r.code, r.stderr)
	}
}

// runTreeWith runs the CLI with the command that maker makes added to the
// tree, as a verb listed in newRoot would be.
func runTreeWith(t *testing.T, maker func(*cli) *cobra.Command, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, stdinIsTerminal: func() bool { return false }, adminTokenFile: filepath.Join(t.TempDir(), "no-admin-token")}
	root := newRoot(c)
	root.AddCommand(maker(c))
	code := execute(context.Background(), c, root, args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestEnvsCreateTakesTheEdgeSettings(t *testing.T) {
	srv := newAPI(t)
	mustRun(t, "apps", "create", "shop")
	r := mustRun(t, "envs", "create", "shop/production", "--body-limit", "10m", "--redirect-https", "--hsts", "8760h")
	if !strings.Contains(r.stdout, "body limit 10 MiB, HTTPS redirect on, HSTS") {
		t.Errorf("create printed %q; want the edge settings", r.stdout)
	}
	env, err := srv.Store.FindEnv(context.Background(), "shop", "production")
	if err != nil {
		t.Fatal(err)
	}
	if env.Edge.BodyLimit != 10<<20 || !env.Edge.RedirectHTTPS || env.Edge.HSTS.D().Hours() != 8760 {
		t.Errorf("stored edge settings %+v", env.Edge)
	}
	for _, args := range [][]string{
		{"envs", "create", "shop/staging", "--body-limit", "lots"},
		{"envs", "create", "shop/staging", "--hsts", "forever"},
	} {
		if r := runJack(t, args...); r.code != exitUsage {
			t.Errorf("jack %s: exit %d, stderr %q; want 2", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	if _, err := srv.Store.FindEnv(context.Background(), "shop", "staging"); err == nil {
		t.Error("a refused create made the environment")
	}
}
