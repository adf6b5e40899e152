package deploy

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	jack "github.com/jack-paas/jack"
)

// staleEnvs is a store whose environment list is as it was before any
// deployment: what the heal loop holds when a deployment ends between its
// listing of the environments and its taking of one's lock.
type staleEnvs struct {
	jack.Store
	listed *atomic.Int64
}

func (s staleEnvs) ListEnvs(ctx context.Context, app string) ([]*jack.Environment, error) {
	envs, err := s.Store.ListEnvs(ctx, app)
	for _, env := range envs {
		env.Release = 0
	}
	s.listed.Add(1)
	return envs, err
}

func TestHealingTakesTheEnvironmentAsItIsOnceLocked(t *testing.T) {
	h := newHarness(t)
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	serving := h.rt.running("web")[0].ID
	// A daemon whose heal loop lists environments that look undeployed.
	h.o.Close()
	var listed atomic.Int64
	h.o = New(Config{Store: staleEnvs{h.store, &listed}, Runtime: h.rt, Router: h.tables, Owner: "test",
		Logger: h.o.logger, HealInterval: h.o.healInterval, StaticDir: h.static})
	if err := h.o.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.o.Close() })
	// Each listing after the first comes once the heal it started has
	// taken the lock; five of them are four heals done.
	eventually(t, "five heal passes", func() bool { return listed.Load() >= 5 })
	if running := h.rt.running("web"); len(running) != 1 || running[0].ID != serving {
		t.Fatalf("after the heals, running %+v; want %s kept", running, serving)
	}
	if body := h.body(); !strings.Contains(body, "version=v1") {
		t.Fatalf("after the heals: %q", body)
	}
}
