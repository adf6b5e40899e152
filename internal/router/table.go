package router

import (
	"fmt"
	"net"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/jack-paas/jack"
)

// table is a route table compiled for lookups: the hot path reads it
// through an atomic pointer and never changes it.
type table struct {
	source    jack.RouteTable
	exact     map[string]*route
	wildcards []wildcard // longest suffix first
}

// wildcard is a "*.example.com" host: it matches names ending in suffix
// (".example.com") with at least one label before it.
type wildcard struct {
	suffix string
	route  *route
}

// route is one environment within a table.
type route struct {
	env     string
	targets []target
	next    atomic.Uint32  // round-robin start, to break ties
	static  []*staticMount // longest URL prefix first
	edge    jack.EdgeSettings
	hsts    string // the Strict-Transport-Security value; "" for none
	stats   *envStats
}

// target is one upstream of a route: where to send, and the counters and
// connections that outlive the table.
type target struct {
	addr  string
	state *upstreamState
}

// emptyTable is what a router serves before it gets its first table.
func emptyTable() *table {
	return &table{exact: map[string]*route{}}
}

// lookup returns the route for a canonical host, or nil. An exact host beats
// a wildcard, and the longest wildcard suffix wins.
func (t *table) lookup(host string) *route {
	if r, ok := t.exact[host]; ok {
		return r
	}
	for _, w := range t.wildcards {
		if len(host) > len(w.suffix) && strings.HasSuffix(host, w.suffix) {
			return w.route
		}
	}
	return nil
}

// staticMount returns the static mount whose URL prefix path falls under,
// or nil.
func (r *route) staticMount(path string) *staticMount {
	for _, m := range r.static {
		if strings.HasPrefix(path, m.prefix) {
			return m
		}
	}
	return nil
}

// validateTable reports the first thing wrong with a table, as a
// *jack.Error EINVALID.
func validateTable(rt jack.RouteTable) error {
	owner := map[string]string{}
	for _, r := range rt.Routes {
		for _, h := range r.Hosts {
			host := strings.TrimSuffix(strings.ToLower(h), ".")
			if host == "" || strings.ContainsAny(host, " /:") {
				return jack.Errorf(jack.EINVALID, "route %s: host %q is not a host name", r.Env, h)
			}
			if strings.HasPrefix(host, "*") && (!strings.HasPrefix(host, "*.") || len(host) < 3 || strings.Contains(host[1:], "*")) {
				return jack.Errorf(jack.EINVALID, "route %s: wildcard %q must look like *.example.com", r.Env, h)
			}
			if prev, ok := owner[host]; ok && prev != r.Env {
				return jack.Errorf(jack.EINVALID, "host %s is claimed by both %s and %s", host, prev, r.Env)
			}
			owner[host] = r.Env
		}
		for _, u := range r.Upstreams {
			if u.ID == "" {
				return jack.Errorf(jack.EINVALID, "route %s: an upstream has no id", r.Env)
			}
			if _, _, err := net.SplitHostPort(u.Addr); err != nil {
				return jack.Errorf(jack.EINVALID, "route %s: upstream %s: address %q is not host:port", r.Env, u.ID, u.Addr)
			}
		}
		for _, m := range r.Static {
			if !strings.HasPrefix(m.URL, "/") || !strings.HasSuffix(m.URL, "/") {
				return jack.Errorf(jack.EINVALID, "route %s: static URL %q must be a path ending in /", r.Env, m.URL)
			}
			if !filepath.IsAbs(m.Dir) || filepath.Clean(m.Dir) != m.Dir {
				return jack.Errorf(jack.EINVALID, "route %s: static folder %q must be a clean absolute path", r.Env, m.Dir)
			}
		}
		if err := r.Edge.Validate(); err != nil {
			return jack.Errorf(jack.EINVALID, "route %s: %s", r.Env, jack.ErrorMessage(err))
		}
	}
	return nil
}

// compileTable builds the lookup structures of a valid table, taking each
// upstream's counters and connections from reg and each static folder's
// cache from files.
func compileTable(rt jack.RouteTable, reg *registry, files *staticFiles) (*table, error) {
	if err := validateTable(rt); err != nil {
		return nil, err
	}
	t := &table{source: rt, exact: map[string]*route{}}
	for _, r := range rt.Routes {
		cr := &route{env: r.Env, targets: make([]target, 0, len(r.Upstreams)), edge: r.Edge, stats: reg.envStats(r.Env)}
		if r.Edge.HSTS > 0 {
			cr.hsts = "max-age=" + strconv.FormatInt(int64(r.Edge.HSTS.D().Seconds()), 10)
		}
		for _, u := range r.Upstreams {
			cr.targets = append(cr.targets, target{addr: u.Addr, state: reg.get(u.ID, u.Addr)})
		}
		cr.static = compileStatic(r.Static, files)
		for _, h := range r.Hosts {
			host := strings.TrimSuffix(strings.ToLower(h), ".")
			if suffix, ok := strings.CutPrefix(host, "*"); ok {
				t.wildcards = append(t.wildcards, wildcard{suffix: suffix, route: cr})
			} else {
				t.exact[host] = cr
			}
		}
	}
	sort.SliceStable(t.wildcards, func(i, j int) bool {
		return len(t.wildcards[i].suffix) > len(t.wildcards[j].suffix)
	})
	return t, nil
}

// compileStatic groups a route's static mounts by URL, keeping their order
// within a URL, longest URL first.
func compileStatic(mounts []jack.StaticMount, files *staticFiles) []*staticMount {
	var out []*staticMount
	byURL := map[string]*staticMount{}
	for _, m := range mounts {
		sm := byURL[m.URL]
		if sm == nil {
			sm = &staticMount{prefix: m.URL}
			byURL[m.URL] = sm
			out = append(out, sm)
		}
		sm.dirs = append(sm.dirs, files.dir(m.Dir))
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].prefix) > len(out[j].prefix) })
	return out
}

// canonicalHost returns a Host header's name: lower case, without port or
// trailing dot. It allocates only when the name has upper-case letters.
func canonicalHost(host string) string {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && strings.IndexByte(host[i:], ']') < 0 {
		host = host[:i]
	}
	host = strings.TrimSuffix(host, ".")
	for i := 0; i < len(host); i++ {
		if c := host[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(host)
		}
	}
	return host
}

// hosts returns every exact host of the table.
func (t *table) hosts() []string {
	out := make([]string, 0, len(t.exact))
	for h := range t.exact {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// String describes a table for logs.
func (t *table) String() string {
	return fmt.Sprintf("generation %d, %d routes", t.source.Generation, len(t.source.Routes))
}

// routes returns each route of the table once.
func (t *table) routes() []*route {
	seen := map[*route]bool{}
	var out []*route
	add := func(r *route) {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	for _, r := range t.exact {
		add(r)
	}
	for _, w := range t.wildcards {
		add(w.route)
	}
	return out
}
