package deploy

import (
	"context"
	"fmt"
	"sort"
	"time"

	jack "github.com/jack-paas/jack"
)

// publish sends the router a table built from every environment's routed
// web instances. Calls are serialised so tables reach the router in the
// order they were built.
func (o *Orchestrator) publish(ctx context.Context) error {
	o.publishMu.Lock()
	defer o.publishMu.Unlock()
	envs, err := o.store.ListEnvs(ctx, "")
	if err != nil {
		return fmt.Errorf("list environments: %w", err)
	}
	gen := time.Now().UnixNano()
	if gen <= o.generation {
		gen = o.generation + 1
	}
	o.generation = gen
	table := jack.RouteTable{Generation: gen}
	var served [][]servedVersion
	var routedEnvs []*jack.Environment
	o.mu.Lock()
	for _, env := range envs {
		if env.Tier != jack.TierWeb {
			continue
		}
		route := jack.Route{Env: env.Ref(), Hosts: o.hosts(env), Edge: env.Edge}
		var versions []servedVersion
		if st := o.envs[env.ID]; st != nil {
			for _, in := range st.instances {
				if in.routed {
					route.Upstreams = append(route.Upstreams, jack.Upstream{ID: in.c.ID, Addr: in.c.Address})
					versions = append(versions, servedVersion{label: in.c.Version, release: in.c.Release})
				}
			}
		}
		sort.Slice(route.Upstreams, func(a, b int) bool { return route.Upstreams[a].ID < route.Upstreams[b].ID })
		table.Routes = append(table.Routes, route)
		served = append(served, versions)
		routedEnvs = append(routedEnvs, env)
	}
	o.mu.Unlock()
	for i, env := range routedEnvs {
		table.Routes[i].Static = o.staticMounts(ctx, env, served[i])
	}
	return o.sendTable(ctx, table)
}

// routerRestartWait is how long a table waits for a router that does not
// answer: the server's watchdog restarts a dead router within about a second.
const routerRestartWait = 5 * time.Second

// sendTable sends a table to the router, retrying while the router is
// being restarted.
func (o *Orchestrator) sendTable(ctx context.Context, table jack.RouteTable) error {
	deadline := time.Now().Add(routerRestartWait)
	gap := 20 * time.Millisecond
	for {
		err := o.router.SetRoutes(ctx, table)
		if err == nil {
			return nil
		}
		if jack.ErrorCode(err) != jack.EUNAVAILABLE || time.Now().After(deadline) {
			return fmt.Errorf("update the router: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("update the router: %w", err)
		case <-time.After(gap):
		}
		gap = min(gap*2, 500*time.Millisecond)
	}
}

// hosts returns the names an environment answers to: ENV.APP.SUFFIX and its
// own domains.
func (o *Orchestrator) hosts(env *jack.Environment) []string {
	hosts := []string{jack.NormalizeDomain(env.Name + "." + env.App + "." + o.domain)}
	for _, d := range env.Domains {
		hosts = append(hosts, jack.NormalizeDomain(d))
	}
	return hosts
}

// setRouted changes which instances are in rotation and publishes the table
// once for all of them, so a batch switches atomically.
func (o *Orchestrator) setRouted(ctx context.Context, add, remove []*instance) error {
	o.mu.Lock()
	for _, in := range add {
		in.routed = true
	}
	for _, in := range remove {
		in.routed = false
	}
	o.mu.Unlock()
	return o.publish(ctx)
}

// Republish sends the router the current table again: after the router
// process was restarted, it serves from its file until this catches it up.
func (o *Orchestrator) Republish(ctx context.Context) error { return o.publish(ctx) }
