package main

import (
	"context"
	"strings"
	"testing"
)

func TestParseConfigSet(t *testing.T) {
	got, err := parseConfigSet([]string{"DATABASE_URL=postgres://u:p@db/notes?sslmode=require", "EMPTY=", "EQ==a=b="})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"DATABASE_URL": "postgres://u:p@db/notes?sslmode=require", "EMPTY": "", "EQ": "=a=b="}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for _, args := range [][]string{
		{"KEY"},              // no '='
		{"=value"},           // no key
		{"1KEY=x"},           // bad key
		{"PORT=80"},          // set by Jack
		{"A=1", "A=2"},       // twice
		{"A=x\x00y"},         // NUL
		{"not a key at all"}, // a bare value
	} {
		_, err := parseConfigSet(args)
		if _, ok := err.(*usageError); !ok {
			t.Errorf("parseConfigSet(%q) = %v, want a usage error", args, err)
		}
	}
	if _, err := parseConfigSet([]string{"hunter2-secret"}); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a bare value is echoed: %v", err)
	}
}

func TestConfigCommandsAgainstTheAPI(t *testing.T) {
	srv := newAPI(t)
	setupEnv(t)
	r := mustRun(t, "config", "set", "notes/production", "SECRET_KEY=a=b=c", "DEBUG=1")
	if !strings.Contains(r.stdout, "stored; it applies from the first deploy") {
		t.Fatalf("set before deploy said %q", r.stdout)
	}
	e, err := srv.Store.FindEnv(context.Background(), "notes", "production")
	if err != nil || e.Config["SECRET_KEY"] != "a=b=c" || e.Config["DEBUG"] != "1" {
		t.Fatalf("stored config = %v, %v", e.Config, err)
	}
	r = mustRun(t, "config", "notes/production")
	if strings.Contains(r.stdout, "a=b=c") || !strings.Contains(r.stdout, "SECRET_KEY") {
		t.Fatalf("listing:\n%s", r.stdout)
	}
	if r := mustRun(t, "config", "get", "notes/production", "SECRET_KEY"); r.stdout != "a=b=c\n" {
		t.Fatalf("get printed %q", r.stdout)
	}
	mustRun(t, "config", "unset", "notes/production", "DEBUG")
	if r := runJack(t, "config", "get", "notes/production", "DEBUG"); r.code != exitFailed {
		t.Fatalf("get of an unset key: exit %d", r.code)
	}
}
