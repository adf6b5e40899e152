package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

// The edge outlives the control plane: with jack server SIGKILLed, the
// router serves on from its last table, even when an instance dies
// meanwhile (its requests are retried on the other), and when the daemon is
// back the router's table drops the dead instance. catchUp returns how long
// after `jack server` was started that took.
func TestTheRouterServesWhileTheDaemonIsDownAndCatchesUp(t *testing.T) {
	d := twoInstances(t)
	l := d.load(host, 4)
	took := catchUp(t, d)
	l.end(t)
	t.Logf("the router had the daemon's table %v after jack server started", took.Round(time.Millisecond))
	eventually(t, "the dead instance replaced", 30*time.Second, func() bool { return len(d.containers()) == 2 })
	t.Logf("%s", d.log)
}

// catchUp SIGKILLs d's daemon, kills one of its instances, starts the daemon
// again and returns the time from its start until the router's table no
// longer holds the dead instance.
func catchUp(t testing.TB, d *daemon) time.Duration {
	t.Helper()
	before := routerUpstreams(t, d)
	if len(before) < 2 {
		t.Fatalf("router upstreams %v; want two instances", before)
	}
	d.kill()
	dead := before[0]
	if err := d.cli.ContainerKill(context.Background(), dead, "KILL"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the router serves alone, one instance dead

	caught := make(chan time.Time, 1)
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if ups := routerUpstreams(t, d); len(ups) > 0 && !slices.Contains(ups, dead) {
				caught <- time.Now()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	defer close(stop)
	start := time.Now()
	d.start()
	select {
	case at := <-caught:
		return at.Sub(start)
	case <-time.After(30 * time.Second):
		t.Fatalf("the router still routes to the dead instance %s: %v", dead[:12], routerUpstreams(t, d))
		return 0
	}
}

// routerUpstreams returns the upstream IDs in the table the router serves,
// read from its control socket.
func routerUpstreams(t testing.TB, d *daemon) []string {
	sock := filepath.Join(d.data, "router.sock")
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	defer c.CloseIdleConnections()
	resp, err := c.Get("http://router/routes")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var rt jack.RouteTable
	if err := json.NewDecoder(resp.Body).Decode(&rt); err != nil {
		return nil
	}
	var ids []string
	for _, r := range rt.Routes {
		for _, u := range r.Upstreams {
			ids = append(ids, u.ID)
		}
	}
	return ids
}

// BenchmarkRouterCatchUp measures how long after `jack server` starts again
// (from a SIGKILL, with one of two instances killed while it was down) the
// router serves its table without the dead instance: the median and the
// worst of JACK_BENCH_ROUNDS rounds (default 7), first on a quiet machine,
// then while 4 clients send requests as fast as they can (which keeps both
// cores busy). bench/catchup.sh runs it. b.N is ignored.
func BenchmarkRouterCatchUp(b *testing.B) {
	rounds := benchRounds(7)
	d := twoInstances(b)
	measure := func() (median, worst time.Duration) {
		var took []time.Duration
		for range rounds {
			deadline := time.Now().Add(30 * time.Second)
			for len(routerUpstreams(b, d)) != 2 { // the last round's replacement routed
				if time.Now().After(deadline) {
					b.Fatalf("router upstreams %v; want two", routerUpstreams(b, d))
				}
				time.Sleep(20 * time.Millisecond)
			}
			took = append(took, catchUp(b, d))
		}
		slices.Sort(took)
		return took[len(took)/2], took[len(took)-1]
	}
	quietMedian, quietWorst := measure()
	l := d.load(host, 4)
	loadMedian, loadWorst := measure()
	close(l.stop)
	l.wg.Wait()
	ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	fmt.Printf("\nRouter catch-up: jack server SIGKILLed, an instance killed meanwhile, then from jack server's start\n")
	fmt.Printf("to the router serving a table without the dead instance (%d rounds each; target 100 ms)\n", rounds)
	fmt.Printf("  quiet machine:          %v median, %v worst\n", ms(quietMedian), ms(quietWorst))
	fmt.Printf("  4 clients at full load: %v median, %v worst; requests %d served, %d failed\n",
		ms(loadMedian), ms(loadWorst), l.ok.Load(), l.failed.Load())
}
