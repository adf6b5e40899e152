package logs

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/sqlite"
)

// drainSetup is a log store, Jack's store with notes/production, and the
// drains over them.
type drainSetup struct {
	dir    string
	db     *sqlite.DB
	env    *jack.Environment
	logs   *Store
	drains *Drains
	svc    *Service
}

func newDrainSetup(t *testing.T, configure func(*Drains)) *drainSetup {
	t.Helper()
	db, env := openDB(t)
	dir := t.TempDir()
	s := &drainSetup{dir: dir, db: db, env: env, logs: openStore(t, dir)}
	s.start(t, configure)
	return s
}

// start starts the drains (again).
func (s *drainSetup) start(t *testing.T, configure func(*Drains)) {
	t.Helper()
	s.drains = NewDrains(s.logs, s.db, nil)
	s.drains.RetryMin, s.drains.RetryMax = 10*time.Millisecond, 50*time.Millisecond
	s.drains.Options.Timeout = 300 * time.Millisecond
	if configure != nil {
		configure(s.drains)
	}
	if err := s.drains.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.drains.Close() })
	s.svc = NewService(s.logs, s.db, s.drains)
}

func (s *drainSetup) write(t *testing.T, from, to int) {
	t.Helper()
	l := envLogOf(t, s.logs)
	appendLines(t, l, "aaaaaaaaaaaa", "web.1", from, to)
}

// collector gathers the lines a receiver got, by their number.
type received struct {
	mu    sync.Mutex
	lines []string
}

func (r *received) add(l string) {
	r.mu.Lock()
	r.lines = append(r.lines, l)
	r.mu.Unlock()
}

// firsts returns the lines in the order they first arrived, and how many
// arrived more than once.
func (r *received) firsts() ([]string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	dups := 0
	for _, l := range r.lines {
		if seen[l] {
			dups++
			continue
		}
		seen[l] = true
		out = append(out, l)
	}
	return out, dups
}

func (r *received) waitFor(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := r.firsts()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syslogTCP is a syslog receiver on loopback that keeps each message's MSG.
func syslogTCP(t *testing.T, addr string) (*received, net.Listener) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	r := &received{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					size, err := br.ReadString(' ')
					if err != nil {
						return
					}
					n, _ := strconv.Atoi(strings.TrimSpace(size))
					msg := make([]byte, n)
					if _, err := io.ReadFull(br, msg); err != nil {
						return
					}
					r.add(string(msg[strings.Index(string(msg), "] ")+2:]))
				}
			}()
		}
	}()
	return r, ln
}

func TestADrainForwardsNewLinesToSyslog(t *testing.T) {
	s := newDrainSetup(t, nil)
	s.write(t, 1, 10) // before the drain: not sent
	recv, ln := syslogTCP(t, "127.0.0.1:0")
	if _, err := s.svc.AddDrain(context.Background(), "notes", "production", "syslog+tcp://"+ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	s.write(t, 11, 3000)
	got := recv.waitFor(t, 2990)
	sameLines(t, "received", got, want("web.1", 11, 3000))
	list, _ := s.svc.Drains(context.Background(), "notes", "production")
	if len(list) != 1 || list[0].Sent != 2990 || list[0].Pending != 0 || list[0].LastError != "" {
		t.Fatalf("drain status %+v", list[0])
	}

	// Stopped and started again (a daemon restart), it goes on from its cursor.
	s.drains.Close()
	s.write(t, 3001, 3100)
	s.start(t, nil)
	sameLines(t, "after a restart", recv.waitFor(t, 3090), want("web.1", 11, 3100))
	if _, dups := recv.firsts(); dups != 0 {
		t.Fatalf("%d lines arrived twice", dups)
	}
}

func TestAnHTTPSDrainThatStallsThenRecoversGetsEveryLine(t *testing.T) {
	var stalled sync.WaitGroup
	stalled.Add(1)
	stalling := make(chan struct{})
	recv := &received{}
	var requests sync.Map
	var posts atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stalling:
			posts.Add(1)
		default:
			requests.Store(r, true)
			select { // hang until the client gives up, as a stuck server does
			case <-stalling:
			case <-r.Context().Done():
				return
			}
		}
		sc := bufio.NewScanner(r.Body)
		for sc.Scan() {
			var rec jack.LogRecord
			json.Unmarshal(sc.Bytes(), &rec)
			recv.add(string(rec.Line))
		}
	}))
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	s := newDrainSetup(t, func(d *Drains) { d.Options.RootCAs = pool })
	if _, err := s.svc.AddDrain(context.Background(), "notes", "production", srv.URL+"/logs"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s.write(t, 1, 5000)
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("storing 5000 lines took %s while the drain stalls", took)
	}
	sameLines(t, "stored while the drain stalls", readAll(t, s.logs, jack.LogQuery{}), want("web.1", 1, 5000))
	eventually(t, "a few stalled attempts", func() bool {
		n := 0
		requests.Range(func(any, any) bool { n++; return true })
		return n >= 3
	})
	list, _ := s.svc.Drains(context.Background(), "notes", "production")
	if list[0].LastError == "" || list[0].Pending == 0 || list[0].FailingAt.IsZero() {
		t.Fatalf("status of a stalled drain: %+v", list[0])
	}
	close(stalling)
	sameLines(t, "received after the stall", recv.waitFor(t, 5000), want("web.1", 1, 5000))
	if n := posts.Load(); n > 10 {
		t.Fatalf("5000 lines took %d requests; want them batched", n)
	}
	// A trickle of lines goes in batches too.
	for n := 5001; n <= 5020; n++ {
		s.write(t, n, n)
		time.Sleep(5 * time.Millisecond)
	}
	sameLines(t, "the trickle", recv.waitFor(t, 5020), want("web.1", 1, 5020))
	if n := posts.Load(); n > 10+10 {
		t.Fatalf("20 lines 5ms apart took %d requests", n-10)
	}
}

func TestADrainPastItsQueueLimitDropsTheOldestAndSaysHowMany(t *testing.T) {
	// A port nothing listens on yet.
	probe, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := probe.Addr().String()
	probe.Close()
	s := newDrainSetup(t, func(d *Drains) { d.QueueBytes = 64 << 10 })
	if _, err := s.svc.AddDrain(context.Background(), "notes", "production", "syslog+tcp://"+addr); err != nil {
		t.Fatal(err)
	}
	s.write(t, 1, 5000) // about 200 KiB
	var dropped int
	var status *jack.DrainStatus
	eventually(t, "events telling of the lines dropped to bring the queue under its limit", func() bool {
		events, _ := s.db.ListEvents(context.Background(), s.env.ID, 0, 0)
		dropped = 0
		for _, e := range events {
			if m := regexp.MustCompile(`dropped its (\d+) oldest lines`).FindStringSubmatch(e.Message); m != nil {
				n, _ := strconv.Atoi(m[1])
				dropped += n
			}
		}
		list, _ := s.svc.Drains(context.Background(), "notes", "production")
		status = list[0]
		return dropped > 0 && status.Pending <= 64<<10 && status.Dropped == int64(dropped)
	})
	// The receiver comes up: it gets the rest, every line accounted for.
	recv, _ := syslogTCP(t, addr)
	got := recv.waitFor(t, 5000-dropped)
	sameLines(t, "received after the drop", got, want("web.1", dropped+1, 5000))
}

func TestBadDrainsAreRefusedAndNothingIsStored(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	s := newDrainSetup(t, nil)
	ctx := context.Background()
	for raw, want := range map[string]string{
		"gopher://logs.example.com": "scheme",
		"syslog+tcp://":             "no host",
		srv.URL:                     "does not verify", // self-signed
	} {
		_, err := s.svc.AddDrain(ctx, "notes", "production", raw)
		if jack.ErrorCode(err) != jack.EINVALID || !strings.Contains(err.Error(), want) {
			t.Errorf("AddDrain(%q) = %v; want EINVALID saying %q", raw, err, want)
		}
	}
	if _, err := s.svc.AddDrain(ctx, "notes", "staging", "syslog://127.0.0.1:514"); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Errorf("drain of a missing environment: %v", err)
	}
	if list, _ := s.db.ListDrains(ctx, 0); len(list) != 0 {
		t.Fatalf("drains stored after bad input: %+v", list)
	}
	if err := s.svc.RemoveDrain(ctx, "notes", "production", "syslog://127.0.0.1:514"); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Errorf("remove a drain that is not there: %v", err)
	}
}

func TestRemovingADrainStopsIt(t *testing.T) {
	s := newDrainSetup(t, nil)
	recv, ln := syslogTCP(t, "127.0.0.1:0")
	url := "syslog+tcp://" + ln.Addr().String()
	ctx := context.Background()
	if _, err := s.svc.AddDrain(ctx, "notes", "production", url); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.AddDrain(ctx, "notes", "production", url); jack.ErrorCode(err) != jack.ECONFLICT {
		t.Fatalf("the same drain twice: %v", err)
	}
	s.write(t, 1, 10)
	recv.waitFor(t, 10)
	if err := s.svc.RemoveDrain(ctx, "notes", "production", url); err != nil {
		t.Fatal(err)
	}
	s.write(t, 11, 20)
	time.Sleep(100 * time.Millisecond)
	if got, _ := recv.firsts(); len(got) != 10 {
		t.Fatalf("a removed drain received %d lines, want 10", len(got))
	}
	_ = fmt.Sprint()
}

func TestADrainGetsEveryLineAcrossSegmentsBeingWrittenAndSealed(t *testing.T) {
	s := newDrainSetup(t, nil)
	l := envLogOf(t, s.logs)
	l.setSegmentLimit(64 << 10) // a new segment every few hundred lines, each sealed
	recv, ln := syslogTCP(t, "127.0.0.1:0")
	if _, err := s.svc.AddDrain(context.Background(), "notes", "production", "syslog+tcp://"+ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	const n = 20000
	for from := 1; from <= n; {
		to := min(n, from+from%37) // batches of 1 to 37 lines, the drain reading between them
		s.write(t, from, to)
		from = to + 1
	}
	got := recv.waitFor(t, n)
	if len(got) != n {
		t.Fatalf("the drain got %d of %d lines", len(got), n)
	}
	for i, line := range got {
		if line != fmt.Sprintf("line %d of web.1", i+1) {
			t.Fatalf("line %d is %q", i+1, line)
		}
	}
}
