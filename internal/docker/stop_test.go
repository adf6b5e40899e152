package docker

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
)

func TestStopRemovesARunningInstance(t *testing.T) {
	r, cli := newRuntime(t)
	c := start(t, r, webSpec(testImage(t, cli), 1))
	if err := r.Stop(context.Background(), c.ID, 5*time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := r.Inspect(context.Background(), c.ID); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Errorf("Inspect after Stop = %v; want ENOTFOUND", err)
	}
}

func TestStopOfAGoneInstanceIsNotAnError(t *testing.T) {
	r, cli := newRuntime(t)
	c := start(t, r, webSpec(testImage(t, cli), 1))
	for range 2 {
		if err := r.Stop(context.Background(), c.ID, time.Second); err != nil {
			t.Fatalf("Stop: %v", err)
		}
	}
	if err := r.Stop(context.Background(), "0123456789ab0123456789ab", time.Second); err != nil {
		t.Errorf("Stop of a container that never was: %v", err)
	}
}

func TestStopLetsTheAppFinishInFlightRequests(t *testing.T) {
	r, cli := newRuntime(t)
	c := start(t, r, webSpec(testImage(t, cli), 1))
	get(t, "http://"+c.Address+"/health")
	events := r.Watch(t.Context())

	answer := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + c.Address + "/sleep?d=1s")
		if err != nil {
			answer <- err.Error()
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answer <- string(body)
	}()
	waitLogLine(t, r, c.ID, "sleeping 1s")
	if err := r.Stop(context.Background(), c.ID, 10*time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if got := <-answer; got != "slept 1s\n" {
		t.Errorf("request in flight at SIGTERM got %q; want it finished", got)
	}
	if ev := waitEvent(t, events, c.ID, "die"); ev.ExitCode != 0 {
		t.Errorf("app stopped with exit code %d; want 0 (a graceful exit on SIGTERM)", ev.ExitCode)
	}
}

func TestStopKillsAnAppThatIgnoresSIGTERMAfterTheTimeout(t *testing.T) {
	r, cli := newRuntime(t)
	c := start(t, r, webSpec(testImage(t, cli), 1, "IGNORE_SIGTERM=1"))
	get(t, "http://"+c.Address+"/health")
	events := r.Watch(t.Context())

	began := time.Now()
	if err := r.Stop(context.Background(), c.ID, 2*time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if waited := time.Since(began); waited < 2*time.Second {
		t.Errorf("Stop returned after %v; the app had 2s to stop before it was killed", waited)
	}
	if ev := waitEvent(t, events, c.ID, "die"); ev.ExitCode != 137 {
		t.Errorf("app died with exit code %d; want 137 (SIGKILL)", ev.ExitCode)
	}
	if _, err := r.Inspect(context.Background(), c.ID); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Errorf("Inspect after Stop = %v; want ENOTFOUND", err)
	}
}
