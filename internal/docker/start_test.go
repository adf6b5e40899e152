package docker

import (
	"context"
	"strings"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
)

func TestStartReturnsAnInstanceReachableFromTheHost(t *testing.T) {
	r, cli := newRuntime(t)
	spec := webSpec(testImage(t, cli), 1)
	c := start(t, r, spec)

	if !c.Running || c.ID == "" || !strings.HasSuffix(c.Address, ":8000") {
		t.Fatalf("Start returned %+v; want a running container with an address on port 8000", c)
	}
	status, body := get(t, "http://"+c.Address+"/")
	if status != 200 || !strings.HasPrefix(body, "version=v2 release=3 process=web instance=") {
		t.Errorf("GET / = %d %q", status, body)
	}
	raw, err := cli.ContainerInspect(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(raw.Name, "/jack-notes-production-web-1-r3-") {
		t.Errorf("container name %q does not say what it is", raw.Name)
	}
	if _, ok := raw.NetworkSettings.Networks[NetworkName]; !ok {
		t.Errorf("container is not on the %s network: %v", NetworkName, raw.NetworkSettings.Networks)
	}
}

func TestStartAppliesResourcesAndRunPolicy(t *testing.T) {
	r, cli := newRuntime(t)
	spec := webSpec(testImage(t, cli), 1)
	spec.Memory = 64 << 20
	spec.CPUs = 0.5
	spec.StopTimeout = 2500 * time.Millisecond
	c := start(t, r, spec)

	raw, err := cli.ContainerInspect(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	h := raw.HostConfig
	if h.Memory != 64<<20 || h.NanoCPUs != 5e8 {
		t.Errorf("memory %d, nano CPUs %d; want %d and 5e8", h.Memory, h.NanoCPUs, 64<<20)
	}
	if h.RestartPolicy.Name != "no" && h.RestartPolicy.Name != "" {
		t.Errorf("restart policy %q; Jack replaces instances itself", h.RestartPolicy.Name)
	}
	if h.LogConfig.Type != "local" || h.LogConfig.Config["max-size"] != "64m" || h.LogConfig.Config["max-file"] != "3" || h.LogConfig.Config["compress"] != "false" {
		t.Errorf("log config %+v; want the local driver capped at 3 x 64m, rotated files not compressed", h.LogConfig)
	}
	if cfg := raw.Config; cfg.StopTimeout == nil || *cfg.StopTimeout != 3 || cfg.StopSignal != "SIGTERM" {
		t.Errorf("stop timeout %v, signal %q; want 3 (2.5s rounded up) and SIGTERM", cfg.StopTimeout, cfg.StopSignal)
	}
}

func TestStartRunsTheGivenCommandWithTheImageEntrypoint(t *testing.T) {
	r, cli := newRuntime(t)
	spec := webSpec(testImage(t, cli), 1)
	spec.Process = "worker"
	spec.Command = []string{"worker"}
	c := start(t, r, spec)

	deadline := time.Now().Add(15 * time.Second)
	for {
		lines, err := r.Logs(context.Background(), c.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.Join(lines, "\n"), "working 1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker wrote %q, never \"working 1\"", lines)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestStartOfAMissingImageIsNotFoundAndLeavesNothing(t *testing.T) {
	r, _ := newRuntime(t)
	spec := webSpec("jack-test/no-such-image:v0", 1)
	_, err := r.Start(context.Background(), spec)
	if jack.ErrorCode(err) != jack.ENOTFOUND || !strings.Contains(err.Error(), "build or load it first") {
		t.Fatalf("Start = %v (%s); want ENOTFOUND saying to build or load the image", err, jack.ErrorCode(err))
	}
	if list, _ := r.List(context.Background(), "notes", ""); len(list) != 0 {
		t.Errorf("a failed start left %d containers", len(list))
	}
}

func TestStartThatFailsRemovesTheContainer(t *testing.T) {
	r, cli := newRuntime(t)
	spec := webSpec(testImage(t, cli), 1)
	spec.Memory = 1 << 20 // below the engine's minimum: create refuses
	_, err := r.Start(context.Background(), spec)
	if jack.ErrorCode(err) != jack.EINVALID {
		t.Fatalf("Start with 1 MiB of memory = %v (%s); want EINVALID", err, jack.ErrorCode(err))
	}

	// An entrypoint that is not in the image fails at start, after create.
	spec = webSpec(testImage(t, cli), 2)
	config, host := r.containerConfig(spec)
	config.Entrypoint = []string{"/no-such-binary"}
	_, err = r.run(context.Background(), spec, config, host)
	if jack.ErrorCode(err) != jack.EINVALID || !strings.Contains(err.Error(), "did not start") {
		t.Fatalf("start with a missing binary = %v (%s); want EINVALID saying it did not start", err, jack.ErrorCode(err))
	}
	if list, _ := r.List(context.Background(), "notes", ""); len(list) != 0 {
		t.Errorf("a failed start left %d containers: %+v", len(list), list[0])
	}
}
