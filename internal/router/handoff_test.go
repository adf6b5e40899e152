package router

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jack-paas/jack"
)

// routerLoad keeps clients busy against a router until stopped: some on
// keep-alive connections (GETs, POSTs with a body, which no client may
// send twice, and a static file), some opening a new connection for each
// request.
type routerLoad struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	errs       []string
	stop       chan struct{}
	wg         sync.WaitGroup
}

func startRouterLoad(t *testing.T, addr, host string, keepAlive, fresh int) *routerLoad {
	l := &routerLoad{stop: make(chan struct{})}
	run := func(client *http.Client, id int) {
		defer l.wg.Done()
		defer client.CloseIdleConnections()
		for i := 0; ; i++ {
			select {
			case <-l.stop:
				return
			default:
			}
			var req *http.Request
			switch i % 3 {
			case 0:
				req, _ = http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
			case 1:
				req, _ = http.NewRequest(http.MethodPost, "http://"+addr+"/orders", strings.NewReader(fmt.Sprintf("order=%d-%d", id, i)))
			default: // a static file, which the routers' event loops respond with themselves
				req, _ = http.NewRequest(http.MethodGet, "http://"+addr+"/static/app.css", nil)
			}
			req.Host = host
			resp, err := client.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					l.ok.Add(1)
					continue
				}
				err = fmt.Errorf("status %s", resp.Status)
			}
			l.failed.Add(1)
			l.mu.Lock()
			if len(l.errs) < 10 {
				l.errs = append(l.errs, req.Method+": "+err.Error())
			}
			l.mu.Unlock()
		}
	}
	for i := range keepAlive {
		l.wg.Add(1)
		go run(&http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}, i)
	}
	for i := range fresh {
		l.wg.Add(1)
		go run(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}, keepAlive+i)
	}
	return l
}

// end stops the load and fails the test if any request failed.
func (l *routerLoad) end(t *testing.T) {
	t.Helper()
	close(l.stop)
	l.wg.Wait()
	if n := l.failed.Load(); n > 0 {
		t.Fatalf("%d of %d requests failed: %v", n, n+l.ok.Load(), l.errs)
	}
	t.Logf("%d requests, none failed", l.ok.Load())
}

// waitServed waits until n more requests succeeded.
func (l *routerLoad) waitServed(t *testing.T, n int64) {
	t.Helper()
	target := l.ok.Load() + n
	waitFor(t, fmt.Sprintf("%d more requests", n), func() bool { return l.ok.Load() >= target || l.failed.Load() > 0 })
}

func TestUpgradingTheRouterUnderLoadDropsNoRequest(t *testing.T) {
	b := newBackend(t, "b")
	dir, addr := shortTempDir(t), deadAddr(t)
	var pids []int
	stopRoutersAtCleanup(t, dir, &pids)
	cfg := spawnConfig(t, dir, addr)
	ctx := context.Background()
	built := jack.BuildVersion
	t.Cleanup(func() { jack.BuildVersion = built })
	ensure := func(version string) Status {
		t.Helper()
		jack.BuildVersion = version
		t.Setenv("JACK_ROUTER_TEST_VERSION", version)
		c, err := Ensure(ctx, cfg)
		if err != nil {
			t.Fatalf("ensure %s: %v", version, err)
		}
		defer c.Close()
		st := mustStatus(t, c)
		pids = append(pids, st.PID)
		if st.Version != version {
			t.Fatalf("router reports %s, want %s", st.Version, version)
		}
		return st
	}

	v1 := ensure("v1")
	c := NewClient(SocketPath(dir))
	defer c.Close()
	static := t.TempDir()
	if err := os.WriteFile(filepath.Join(static, "app.css"), []byte("a{b:c}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	route := newRoute("shop/prod", []string{"shop.test"}, b.upstream("b"))
	route.Static = []jack.StaticMount{{URL: "/static/", Dir: static}}
	table := jack.RouteTable{Generation: 1, Routes: []jack.Route{route}}
	if err := c.SetRoutes(ctx, table); err != nil {
		t.Fatal(err)
	}
	load := startRouterLoad(t, addr, "shop.test", 8, 2)
	load.waitServed(t, 200)

	previous := v1
	for _, version := range []string{"v2", "v3"} {
		next := ensure(version)
		if next.PID == previous.PID {
			t.Fatalf("%s is served by the same process %d", version, next.PID)
		}
		load.waitServed(t, 200)
		waitFor(t, "the old router to finish and exit", func() bool { return processGone(previous.PID) || load.failed.Load() > 0 })
		load.waitServed(t, 200)
		previous = next
	}
	load.end(t)
	if got, err := c.Routes(ctx); err != nil || got.Generation != 1 {
		t.Errorf("the new router serves %+v, %v; want the table set before the upgrades", got, err)
	}
}
