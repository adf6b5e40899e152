package router

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

// startRequest sends a GET for host in the background and returns a
// channel with its status and body.
func startRequest(t *testing.T, base, host string) <-chan string {
	result := make(chan string, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, base, nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			result <- "error: " + err.Error()
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		result <- resp.Status + " " + string(body)
	}()
	return result
}

type drainOutcome struct {
	result jack.DrainResult
	err    error
}

func startDrain(p *Proxy, ids []string, timeout time.Duration) <-chan drainOutcome {
	done := make(chan drainOutcome, 1)
	go func() {
		r, err := p.Drain(context.Background(), ids, timeout)
		done <- drainOutcome{r, err}
	}()
	return done
}

func TestDrainWaitsForTheRequestInFlight(t *testing.T) {
	old := newBlockingBackend(t)
	next := newBackend(t, "next")
	p, srv := newTestProxy(t)
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"shop.test"}, old.upstream("old")))
	response := startRequest(t, srv.URL, "shop.test")
	<-old.arrived

	setRoutes(t, p, 2, newRoute("shop/prod", []string{"shop.test"}, next.upstream("next")))
	drained := startDrain(p, []string{"old"}, time.Minute)
	// New requests go to the new upstream while the old one drains.
	if status, body := get(t, srv.Client(), srv.URL, "shop.test"); status != http.StatusOK || backendOf(t, body) != "next" {
		t.Fatalf("request during drain: %d %q", status, body)
	}
	select {
	case d := <-drained:
		t.Fatalf("drain returned %+v, %v with a request in flight", d.result, d.err)
	default:
	}
	if n := p.InFlight("old"); n != 1 {
		t.Fatalf("old has %d in flight, want 1", n)
	}

	close(old.release)
	if got := <-response; got != "200 OK released" {
		t.Errorf("request in flight got %q, want it finished", got)
	}
	select {
	case d := <-drained:
		if d.err != nil || d.result.Remaining != 0 {
			t.Errorf("drain: %+v, %v; want nothing remaining", d.result, d.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("drain did not return after the last request finished")
	}
}

func TestDrainCutsRequestsAtTimeout(t *testing.T) {
	stuck := newBlockingBackend(t)
	p, srv := newTestProxy(t)
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"shop.test"}, stuck.upstream("stuck")))
	responses := []<-chan string{startRequest(t, srv.URL, "shop.test"), startRequest(t, srv.URL, "shop.test")}
	<-stuck.arrived
	<-stuck.arrived
	setRoutes(t, p, 2, newRoute("shop/prod", []string{"shop.test"}))

	d := <-startDrain(p, []string{"stuck"}, 50*time.Millisecond)
	if d.err != nil || d.result.Remaining != 2 {
		t.Fatalf("drain: %+v, %v; want 2 remaining", d.result, d.err)
	}
	for _, response := range responses {
		if got := <-response; !strings.HasPrefix(got, "502") || !strings.Contains(got, "was stopped before it answered") {
			t.Errorf("cut request got %q, want a 502", got)
		}
	}
	<-stuck.canceled
	<-stuck.canceled
	waitFor(t, "no request in flight", func() bool { return p.InFlight("stuck") == 0 })
}

func TestDrainOfIdleOrUnknownUpstreamReturnsAtOnce(t *testing.T) {
	b := newBackend(t, "b")
	p, srv := newTestProxy(t)
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"shop.test"}, b.upstream("b")))
	get(t, srv.Client(), srv.URL, "shop.test")
	r, err := p.Drain(context.Background(), []string{"b", "never-seen"}, time.Hour)
	if err != nil || r.Remaining != 0 {
		t.Errorf("drain: %+v, %v", r, err)
	}
}

func TestDrainStopsWhenContextEnds(t *testing.T) {
	stuck := newBlockingBackend(t)
	p, srv := newTestProxy(t)
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"shop.test"}, stuck.upstream("stuck")))
	response := startRequest(t, srv.URL, "shop.test")
	<-stuck.arrived
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := p.Drain(ctx, []string{"stuck"}, time.Hour)
	if err == nil || r.Remaining != 1 {
		t.Errorf("drain: %+v, %v; want the context's error and 1 remaining", r, err)
	}
	close(stuck.release)
	if got := <-response; got != "200 OK released" {
		t.Errorf("request got %q; an abandoned drain must not cut it", got)
	}
}

func TestTableSwapKeepsInFlightCounts(t *testing.T) {
	slow := newBlockingBackend(t)
	p, srv := newTestProxy(t)
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"shop.test"}, slow.upstream("slow")))
	response := startRequest(t, srv.URL, "shop.test")
	<-slow.arrived
	setRoutes(t, p, 2, newRoute("shop/prod", []string{"shop.test", "www.shop.test"}, slow.upstream("slow")))
	if n := p.InFlight("slow"); n != 1 {
		t.Errorf("after a swap slow has %d in flight, want 1", n)
	}
	close(slow.release)
	<-response
	waitFor(t, "the request to end", func() bool { return p.InFlight("slow") == 0 })
}
