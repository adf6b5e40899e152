//go:build enginerestart

package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestEngineRestart restarts the Docker engine under a deployed
// environment: its containers die with it, and Jack replaces them once the
// engine is back, without anyone asking and without duplicates.
//
// It restarts the machine's only engine, so it cannot share it with other
// tests: .ci/run runs it alone, after the suite (go test -tags enginerestart).
func TestEngineRestart(t *testing.T) {
	d := twoInstances(t)
	before := d.containerIDs()

	if out, err := exec.Command("pkill", "-TERM", "-x", "dockerd").CombinedOutput(); err != nil {
		t.Fatalf("stop dockerd: %v %s", err, out)
	}
	eventually(t, "dockerd to stop", 60*time.Second, func() bool {
		return exec.Command("pgrep", "-x", "dockerd").Run() != nil
	})
	if out, err := exec.Command("../scripts/docker-up").CombinedOutput(); err != nil {
		t.Fatalf("start dockerd: %v %s", err, out)
	}
	eventually(t, "the environment to serve again", 60*time.Second, func() bool {
		code, body, _ := d.get(host, "/")
		return code == 200 && strings.Contains(body, "version=v1")
	})
	eventually(t, "two fresh instances and no leftovers", 30*time.Second, func() bool {
		ids := d.containerIDs()
		return len(ids) == 2 && ids[0] != before[0] && ids[0] != before[1] && ids[1] != before[0] && ids[1] != before[1]
	})
	// Both replacements run; the second may still be passing its check.
	eventually(t, "both replacements healthy", 30*time.Second, func() bool {
		return strings.Count(d.ok("ps", "notes/production"), "healthy") == 2
	})
}
