package docker

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
)

// fakeEngine answers /_ping and serves each /events subscription with the
// next script: the events to send, and whether to end the stream after.
type fakeEngine struct {
	mu          sync.Mutex
	scripts     [][]string // container IDs of die events, per subscription
	downPings   int        // pings to fail after each stream that ends
	failedPings int        // pings still to fail
	pings       int
	filters     []string
}

func (f *fakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("API-Version", "1.41")
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case strings.HasSuffix(r.URL.Path, "/_ping"):
		f.pings++
		if f.failedPings > 0 {
			f.failedPings--
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "OK")
	case strings.HasSuffix(r.URL.Path, "/events"):
		f.filters = append(f.filters, r.URL.Query().Get("filters"))
		if len(f.scripts) == 0 {
			http.Error(w, "no more scripts", http.StatusInternalServerError)
			return
		}
		script := f.scripts[0]
		f.scripts = f.scripts[1:]
		last := len(f.scripts) == 0
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		enc := json.NewEncoder(w)
		for _, id := range script {
			enc.Encode(map[string]any{"Type": "container", "Action": "die",
				"Actor": map[string]any{"ID": id, "Attributes": map[string]string{jack.LabelApp: "notes", jack.LabelEnv: "production", "exitCode": "3"}}})
		}
		w.(http.Flusher).Flush()
		if !last {
			f.failedPings = f.downPings // the engine is down for a while
			return
		}
		// The final subscription stays open until the client leaves.
		f.mu.Unlock()
		<-r.Context().Done()
		f.mu.Lock()
	default:
		http.NotFound(w, r)
	}
}

func fakeRuntime(t *testing.T, f *fakeEngine) *Runtime {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	r, err := New("tcp://"+srv.Listener.Addr().String(), "", slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func next(t *testing.T, events <-chan jack.ContainerEvent) jack.ContainerEvent {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(20 * time.Second):
		t.Fatal("no event in 20s")
		return jack.ContainerEvent{}
	}
}

func TestWatchReconnectsAndAsksForAResync(t *testing.T) {
	f := &fakeEngine{scripts: [][]string{{"a"}, {"b"}}, downPings: 2}
	r := fakeRuntime(t, f)
	events := r.Watch(t.Context())

	want := []jack.ContainerEvent{
		{ID: "a", App: "notes", Env: "production", Action: "die", ExitCode: 3},
		{Action: "resync"},
		{ID: "b", App: "notes", Env: "production", Action: "die", ExitCode: 3},
	}
	for i, w := range want {
		if got := next(t, events); got != w {
			t.Fatalf("event %d = %+v, want %+v", i, got, w)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pings < 3 {
		t.Errorf("reconnected after %d pings; want it to wait until a ping passes", f.pings)
	}
	for _, filter := range f.filters {
		for _, s := range []string{`"dev.jack.managed=true"`, `"die"`, `"start"`, `"oom"`, `"container"`} {
			if !strings.Contains(filter, s) {
				t.Errorf("events filter %s lacks %s", filter, s)
			}
		}
	}
}

func TestWatchDropsEventsForASlowReceiverAndAsksForAResync(t *testing.T) {
	var ids []string
	for i := range watchBuffer + 10 {
		ids = append(ids, fmt.Sprint(i))
	}
	r := fakeRuntime(t, &fakeEngine{scripts: [][]string{ids}})
	events := r.Watch(t.Context())

	// Wait until the buffer is full before reading anything.
	deadline := time.Now().Add(20 * time.Second)
	for len(events) < watchBuffer {
		if time.Now().After(deadline) {
			t.Fatalf("buffer holds %d events, want %d", len(events), watchBuffer)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := range watchBuffer {
		if ev := next(t, events); ev.ID != ids[i] {
			t.Fatalf("event %d is %+v, want %s", i, ev, ids[i])
		}
	}
	if ev := next(t, events); ev.Action != "resync" {
		t.Fatalf("after a full buffer got %+v, want a resync", ev)
	}
}
