package logs

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/sqlite"
)

// openDB returns a store with the app notes and its environment production.
func openDB(t *testing.T) (*sqlite.DB, *jack.Environment) {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "jack.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	app := &jack.App{Name: "notes"}
	if err := db.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	env := &jack.Environment{AppID: app.ID, App: "notes", Name: "production", Tier: jack.TierWeb}
	if err := db.CreateEnv(ctx, env); err != nil {
		t.Fatal(err)
	}
	return db, env
}

func addEvents(t *testing.T, db *sqlite.DB, env *jack.Environment, from, to int) {
	t.Helper()
	for n := from; n <= to; n++ {
		e := &jack.Event{EnvID: env.ID, Time: base.Add(time.Duration(n) * time.Second), Kind: "deploy", Message: fmt.Sprintf("event %d", n)}
		if err := db.AddEvent(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

func wantEvents(from, to int) []string {
	var out []string
	for n := from; n <= to; n++ {
		out = append(out, fmt.Sprintf("event %d", n))
	}
	return out
}

func TestEventsReachTheLogOnce(t *testing.T) {
	db, env := openDB(t)
	dir := t.TempDir()
	s := openStore(t, dir)
	addEvents(t, db, env, 1, 60) // before the first start: all of them are copied
	ev := NewEvents(db, s, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ev.Run(ctx); close(done) }()

	eventually(t, "the events before the start", func() bool { return len(readAll(t, s, jack.LogQuery{Process: "jack"})) == 60 })
	addEvents(t, db, env, 61, 62)
	ev.Changed(env.ID)
	eventually(t, "new events", func() bool { return len(readAll(t, s, jack.LogQuery{Process: "jack"})) == 62 })
	cancel()
	<-done
	recs := readRecords(t, s, jack.LogQuery{N: 1})
	if r := recs[0]; r.Source() != "jack.deploy" || r.Stream != jack.StreamEvent || !r.Time.Equal(base.Add(62*time.Second)) {
		t.Fatalf("event record %+v", r)
	}

	// Started again, it copies only what is new.
	addEvents(t, db, env, 63, 64)
	ev2 := NewEvents(db, s, nil)
	ev2.syncAll(context.Background())
	sameLines(t, "events", readAll(t, s, jack.LogQuery{Process: "jack"}), wantEvents(1, 64))
}

func readRecords(t *testing.T, s *Store, q jack.LogQuery) []*jack.LogRecord {
	t.Helper()
	if q.App == "" {
		q.App, q.Env = "notes", "production"
	}
	var out []*jack.LogRecord
	if err := s.Read(context.Background(), q, func(r *jack.LogRecord) error {
		if r != nil {
			out = append(out, r)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
