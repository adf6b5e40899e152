package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

func TestPrintHealth(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	h := &jack.Health{
		Env: "notes/production", State: "degraded", Since: now.Add(-2 * time.Minute),
		Causes:   []string{"1 of 2 web instances failing health checks (GET /health answered 500)", "web.2 uses 93% of its 64 MiB memory limit"},
		Requests: 500, ErrorShare: 0.062, P95: 0.120,
		Instances: []*jack.InstanceHealth{
			{Name: "web.1", State: "unhealthy", LastCheck: now.Add(-time.Second), CheckLatency: 1500 * time.Microsecond,
				CheckError: "GET /health answered 500", CheckFailures: 4, Requests: 250, ErrorShare: 0.124,
				CPUPercent: 12.5, CPULimit: 0.5, MemoryWorking: 20 << 20, MemoryLimit: 64 << 20, SampledAt: now, Restarts: 1},
			{Name: "web.2", State: "healthy", LastCheck: now.Add(-2 * time.Second), CheckLatency: 800 * time.Microsecond,
				Requests: 250, MemoryWorking: 60 << 20, MemoryLimit: 64 << 20, SampledAt: now},
		},
	}
	var out bytes.Buffer
	if err := printHealth(&out, h, now); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"notes/production: DEGRADED for 2m0s",
		"  - 1 of 2 web instances failing health checks (GET /health answered 500)",
		"Last minute: 500 requests, 6.2% 5xx, p95 120ms",
		"INSTANCE", "web.1", "unhealthy", "1s ago (failing: GET /health answered 500)", "  1.5ms  ", "12.4%", "12.5% of 0.5", "20.0 MiB / 64.0 MiB",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("jack health output lacks %q:\n%s", want, out.String())
		}
	}
	if got := healthHeadline(h); got != "degraded: 1 of 2 web instances failing health checks (GET /health answered 500) (+1 more; see jack health notes/production)" {
		t.Errorf("headline %q", got)
	}
}
