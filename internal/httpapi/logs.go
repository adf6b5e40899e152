package httpapi

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/jack-paas/jack"
)

// errNoLogs answers log requests to a server that does not collect logs.
var errNoLogs = jack.Errorf(jack.EUNAVAILABLE, "this server does not collect logs")

// defaultLogLines is how many of the last lines a read without -n or a
// time range returns.
const defaultLogLines = 100

// logRoutes returns the log endpoints under an environment's path.
func (s *server) logRoutes(env string) map[string]handlerFunc {
	return map[string]handlerFunc{
		"GET " + env + "/logs":            s.handleLogs,
		"GET " + env + "/logs/settings":   s.handleLogSettings,
		"PATCH " + env + "/logs/settings": s.handleSetLogSettings,
		"GET " + env + "/drains":          s.handleListDrains,
		"POST " + env + "/drains":         s.handleAddDrain,
		"DELETE " + env + "/drains":       s.handleRemoveDrain,
	}
}

// handleLogs answers GET .../logs?process=&instance=&since=&until=&n=&grep=&follow=:
// the records as NDJSON, or as server-sent events when the client accepts
// text/event-stream. since and until take a time (RFC 3339) or a duration
// back from now (10m, 3d).
func (s *server) handleLogs(w http.ResponseWriter, r *http.Request) error {
	if s.logs == nil {
		return errNoLogs
	}
	q, err := logQuery(r, time.Now())
	if err != nil {
		return err
	}
	if _, err := q.Validate(); err != nil {
		return err
	}
	stream := &logStream{w: w, sse: strings.Contains(r.Header.Get("Accept"), "text/event-stream")}
	err = s.logs.ReadLogs(r.Context(), q, stream.send)
	if err != nil && !stream.started {
		return err
	}
	if err != nil && r.Context().Err() == nil && !stream.broken {
		s.logger.Error("read logs", "env", q.App+"/"+q.Env, "err", err)
		stream.fail(err)
	}
	stream.flush()
	return nil
}

// logQuery reads a log query from the path and query string.
func logQuery(r *http.Request, now time.Time) (jack.LogQuery, error) {
	v := r.URL.Query()
	q := jack.LogQuery{
		App: r.PathValue("app"), Env: r.PathValue("env"),
		Process: v.Get("process"), Instance: v.Get("instance"), Grep: v.Get("grep"),
	}
	var err error
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if s := v.Get(p.name); s != "" {
			if *p.t, err = jack.ParseLogTime(s, now); err != nil {
				return q, jack.Errorf(jack.EINVALID, "query parameter %s: %s", p.name, jack.ErrorMessage(err))
			}
		}
	}
	n, err := queryInt(r, "n", -1)
	if err != nil {
		return q, err
	}
	switch {
	case n >= 0:
		q.N = int(min(n, 1<<31))
	case q.Since.IsZero() && q.Until.IsZero():
		q.N = defaultLogLines
	}
	if q.Follow, err = queryBool(r, "follow"); err != nil {
		return q, err
	}
	return q, nil
}

// logStream writes records as NDJSON or server-sent events, buffered, and
// flushed each time the reader has caught up, so that a follow sees each
// line at once and a long read goes out in large writes.
type logStream struct {
	w       http.ResponseWriter
	bw      *bufio.Writer
	enc     *json.Encoder
	sse     bool
	started bool
	broken  bool // the client went away
	wrote   bool // since the last flush
}

// start sends the headers.
func (s *logStream) start() {
	s.started = true
	h := s.w.Header()
	if s.sse {
		h.Set("Content-Type", "text/event-stream")
	} else {
		h.Set("Content-Type", "application/x-ndjson")
	}
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // tell proxies not to hold the stream
	_ = http.NewResponseController(s.w).SetWriteDeadline(time.Time{})
	s.w.WriteHeader(http.StatusOK)
	s.bw = bufio.NewWriterSize(s.w, 32<<10)
	s.enc = json.NewEncoder(s.bw)
	s.enc.SetEscapeHTML(false)
}

// send writes one record, or flushes on nil.
func (s *logStream) send(rec *jack.LogRecord) error {
	if !s.started {
		s.start()
	}
	if rec == nil {
		if !s.wrote && s.sse {
			io.WriteString(s.bw, ": waiting for more\n\n") // keeps proxies from closing an idle stream
		}
		return s.flush()
	}
	if s.sse {
		s.bw.WriteString("data: ")
	}
	if err := s.enc.Encode(rec); err != nil {
		return s.gone(err)
	}
	if s.sse {
		s.bw.WriteString("\n")
	}
	s.wrote = true
	return nil
}

// flush sends what is buffered.
func (s *logStream) flush() error {
	if !s.started || s.broken {
		return nil
	}
	s.wrote = false
	if err := s.bw.Flush(); err != nil {
		return s.gone(err)
	}
	if err := http.NewResponseController(s.w).Flush(); err != nil {
		return s.gone(err)
	}
	return nil
}

func (s *logStream) gone(err error) error {
	s.broken = true
	return err
}

// fail ends the stream with an error: an error line in NDJSON, an "error"
// event in SSE.
func (s *logStream) fail(err error) {
	body, _ := json.Marshal(ErrorResponse{Error: ErrorBody{Code: jack.ErrorCode(err), Message: jack.ErrorMessage(err)}})
	if s.sse {
		s.bw.WriteString("event: error\ndata: ")
	}
	s.bw.Write(body)
	s.bw.WriteString("\n")
	if s.sse {
		s.bw.WriteString("\n")
	}
}

// handleLogSettings answers GET .../logs/settings.
func (s *server) handleLogSettings(w http.ResponseWriter, r *http.Request) error {
	if s.logs == nil {
		return errNoLogs
	}
	settings, usage, err := s.logs.Settings(r.Context(), r.PathValue("app"), r.PathValue("env"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, logSettings(settings, usage))
}

// handleSetLogSettings answers PATCH .../logs/settings.
func (s *server) handleSetLogSettings(w http.ResponseWriter, r *http.Request) error {
	if s.logs == nil {
		return errNoLogs
	}
	var patch LogSettingsPatch
	if err := readJSON(w, r, &patch); err != nil {
		return err
	}
	var set jack.LogSettings
	if patch.Retention != "" {
		d, err := jack.ParseLongDuration(patch.Retention)
		if err != nil {
			return jack.Errorf(jack.EINVALID, "retention: %s", jack.ErrorMessage(err))
		}
		if d == 0 {
			return jack.Errorf(jack.EINVALID, "retention 0 would keep nothing; give from 1h to 3650d")
		}
		set.Retention = d
	}
	if patch.MaxBytes < 0 {
		return jack.Errorf(jack.EINVALID, "max_bytes %d is negative", patch.MaxBytes)
	}
	set.MaxBytes = patch.MaxBytes
	if set == (jack.LogSettings{}) {
		return jack.Errorf(jack.EINVALID, "nothing to change; give a retention or a max size")
	}
	settings, usage, err := s.logs.SetSettings(r.Context(), r.PathValue("app"), r.PathValue("env"), set)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, logSettings(settings, usage))
}

func logSettings(s jack.LogSettings, u jack.LogUsage) LogSettings {
	return LogSettings{Retention: s.Retention.String(), MaxBytes: s.MaxBytes, Usage: u}
}

// handleListDrains answers GET .../drains.
func (s *server) handleListDrains(w http.ResponseWriter, r *http.Request) error {
	if s.logs == nil {
		return errNoLogs
	}
	drains, err := s.logs.Drains(r.Context(), r.PathValue("app"), r.PathValue("env"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(drains))
}

// handleAddDrain answers POST .../drains.
func (s *server) handleAddDrain(w http.ResponseWriter, r *http.Request) error {
	if s.logs == nil {
		return errNoLogs
	}
	var req AddDrainRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	d, err := s.logs.AddDrain(r.Context(), r.PathValue("app"), r.PathValue("env"), req.URL)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, d)
}

// handleRemoveDrain answers DELETE .../drains?url=URL.
func (s *server) handleRemoveDrain(w http.ResponseWriter, r *http.Request) error {
	if s.logs == nil {
		return errNoLogs
	}
	url := r.URL.Query().Get("url")
	if url == "" {
		return jack.Errorf(jack.EINVALID, "query parameter url is missing; name the drain to remove")
	}
	if err := s.logs.RemoveDrain(r.Context(), r.PathValue("app"), r.PathValue("env"), url); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
