package logs

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
)

// writeAccess appends requests n from..to of env to the router's access
// log at path, in the router's format.
func writeAccess(t *testing.T, path, env string, from, to int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for n := from; n <= to; n++ {
		line, _ := json.Marshal(map[string]any{
			"time": base.Add(time.Duration(n) * time.Millisecond).Format(time.RFC3339Nano), "env": env,
			"host": "production.notes.localhost", "method": "GET", "path": fmt.Sprintf("/page/%d", n),
			"status": 200, "bytes": 512, "duration_ms": 1.25, "instance": fakeID,
			"request_id": fmt.Sprintf("req-%d", n), "client": "127.0.0.1:5555",
		})
		f.Write(append(line, '\n'))
	}
}

func requests(t *testing.T, s *Store, app, env string) []string {
	t.Helper()
	var out []string
	for _, l := range readAll(t, s, jack.LogQuery{App: app, Env: env, Process: "router"}) {
		out = append(out, strings.Fields(l)[1])
	}
	return out
}

func wantPages(from, to int) []string {
	var out []string
	for n := from; n <= to; n++ {
		out = append(out, fmt.Sprintf("/page/%d", n))
	}
	return out
}

func TestAccessLogLinesReachTheirEnvironmentOnce(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, filepath.Join(dir, "logs"))
	path, cursor := filepath.Join(dir, "router-access.ndjson"), filepath.Join(dir, "logs", "router-access.cursor")
	a := NewAccessLog(path, cursor, s, nil)
	a.Instance = func(id string) (*jack.LogContainer, bool) {
		return &jack.LogContainer{ID: fakeID, Instance: "web.2", Release: 4}, id == fakeID
	}

	writeAccess(t, path, "notes/production", 1, 10)
	writeAccess(t, path, "notes/staging", 1, 5)
	writeAccess(t, path, "", 1, 3) // answered by no environment
	os.WriteFile(path+".junk", nil, 0o600)
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("not json\n")
	f.Close()
	writeAccess(t, path, "notes/production", 11, 12)
	if err := a.Poll(); err != nil {
		t.Fatal(err)
	}
	sameLines(t, "production", requests(t, s, "notes", "production"), wantPages(1, 12))
	sameLines(t, "staging", requests(t, s, "notes", "staging"), wantPages(1, 5))
	got := readAll(t, s, jack.LogQuery{App: "notes", Env: "production", Process: "router", N: 1})
	if want := "GET /page/12 200 512B 1.2ms host=production.notes.localhost client=127.0.0.1:5555 request_id=req-12 instance=web.2"; got[0] != want {
		t.Fatalf("access line %q, want %q", got[0], want)
	}

	// A half-written line waits for its end.
	f, _ = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"time":"` + base.Add(13*time.Millisecond).Format(time.RFC3339Nano) + `","env":"notes/production","method":"GET","pa`)
	a.Poll()
	f.WriteString(`th":"/page/13","status":200}` + "\n")
	f.Close()
	a.Poll()
	sameLines(t, "after a line written in two goes", requests(t, s, "notes", "production"), wantPages(1, 13))

	// The router renames the file after more lines, and starts a new one.
	writeAccess(t, path, "notes/production", 14, 20)
	os.Rename(path, path+".1")
	writeAccess(t, path, "notes/production", 21, 25)
	a.Poll()
	sameLines(t, "across a rotation", requests(t, s, "notes", "production"), wantPages(1, 25))
	a.save(true)

	// A crash after storing lines but before saving the cursor: the next
	// run reads them again and stores none twice.
	writeAccess(t, path, "notes/production", 26, 30)
	writeAccess(t, path, "notes/staging", 6, 8)
	a.Poll() // stores, but saves the cursor at most once a second
	b := NewAccessLog(path, cursor, s, nil)
	buf, _ := os.ReadFile(cursor)
	json.Unmarshal(buf, &b.cur)
	if b.cur.Offset == a.cur.Offset {
		t.Fatalf("cursor saved already; the test needs it behind")
	}
	b.Poll()
	sameLines(t, "after reading again", requests(t, s, "notes", "production"), wantPages(1, 30))
	sameLines(t, "staging after reading again", requests(t, s, "notes", "staging"), wantPages(1, 8))
}
