package router

import (
	"log/slog"
	"testing"

	"github.com/jack-paas/jack"
)

func TestCanonicalHost(t *testing.T) {
	for in, want := range map[string]string{
		"example.com":      "example.com",
		"Example.COM":      "example.com",
		"example.com:8080": "example.com",
		"example.com.":     "example.com",
		"EXAMPLE.com.:80":  "example.com",
		"[::1]:8080":       "[::1]",
		"[::1]":            "[::1]",
		"127.0.0.1:80":     "127.0.0.1",
		"":                 "",
	} {
		if got := canonicalHost(in); got != want {
			t.Errorf("canonicalHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTableLookupPrefersExactThenLongestWildcard(t *testing.T) {
	tbl, err := compileTable(jack.RouteTable{Routes: []jack.Route{
		{Env: "a/short", Hosts: []string{"*.example.com"}},
		{Env: "a/long", Hosts: []string{"*.api.example.com"}},
		{Env: "a/exact", Hosts: []string{"x.api.example.com", "Caps.Example.com"}},
	}}, newRegistry(func(addr string) *connPool { return newConnPool(addr, nil) }), newStaticFiles(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]string{
		"x.api.example.com": "a/exact",
		"y.api.example.com": "a/long",
		"api.example.com":   "a/short",
		"b.example.com":     "a/short",
		"caps.example.com":  "a/exact",
		"example.com":       "",
		"xexample.com":      "",
	} {
		got := ""
		if r := tbl.lookup(host); r != nil {
			got = r.env
		}
		if got != want {
			t.Errorf("lookup(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestValidateTableRejectsBadTables(t *testing.T) {
	up := []jack.Upstream{{ID: "i1", Addr: "127.0.0.1:80"}}
	for name, rt := range map[string]jack.RouteTable{
		"host in two envs": {Routes: []jack.Route{
			{Env: "a/x", Hosts: []string{"shop.test"}, Upstreams: up},
			{Env: "a/y", Hosts: []string{"SHOP.test"}, Upstreams: up},
		}},
		"bad wildcard":  {Routes: []jack.Route{{Env: "a/x", Hosts: []string{"*example.com"}}}},
		"inner star":    {Routes: []jack.Route{{Env: "a/x", Hosts: []string{"*.*.example.com"}}}},
		"host and port": {Routes: []jack.Route{{Env: "a/x", Hosts: []string{"shop.test:80"}}}},
		"empty host":    {Routes: []jack.Route{{Env: "a/x", Hosts: []string{""}}}},
		"no port":       {Routes: []jack.Route{{Env: "a/x", Hosts: []string{"shop.test"}, Upstreams: []jack.Upstream{{ID: "i", Addr: "10.0.0.1"}}}}},
		"no id":         {Routes: []jack.Route{{Env: "a/x", Hosts: []string{"shop.test"}, Upstreams: []jack.Upstream{{Addr: "10.0.0.1:80"}}}}},
	} {
		if err := validateTable(rt); jack.ErrorCode(err) != jack.EINVALID {
			t.Errorf("%s: got %v, want EINVALID", name, err)
		}
	}
}
