package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/jack-paas/jack"
)

// runner returns the API's Runner, EUNAVAILABLE without one.
func (s *server) runnerOrFail() (jack.Runner, error) {
	if s.runner == nil {
		return nil, jack.Errorf(jack.EUNAVAILABLE, "this server runs no one-off commands")
	}
	return s.runner, nil
}

// handleRun answers POST .../runs: it runs a one-off command and streams
// it over the upgraded connection (see RunUpgrade). Errors found before the
// container starts are plain JSON answers.
func (s *server) handleRun(w http.ResponseWriter, r *http.Request) error {
	if !strings.EqualFold(r.Header.Get("Upgrade"), RunUpgrade) {
		return jack.Errorf(jack.EINVALID, "a run streams over an upgraded connection; send Connection: Upgrade and Upgrade: %s (the jack CLI does)", RunUpgrade)
	}
	var req jack.RunRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	runner, err := s.runnerOrFail()
	if err != nil {
		return err
	}
	req.App, req.Env = env.App, env.Name
	if len(req.Command) == 0 {
		return jack.Errorf(jack.EINVALID, "no command to run; give one after --")
	}
	if req.Process != "" {
		if err := jack.ValidateName("process", req.Process); err != nil {
			return err
		}
	}
	sess := &runSession{s: s, w: w}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	sess.cancel = cancel
	stdinR, stdinW := io.Pipe()
	defer stdinR.Close()
	sess.stdin = stdinW
	sess.resize = make(chan jack.TermSize, 8)
	if req.TTY {
		sess.resize <- req.Size
	}
	var stdin io.Reader
	if req.Stdin {
		stdin = stdinR
	}
	run, err := runner.Run(ctx, req, jack.OneOffIO{
		Stdin: stdin, Stdout: sess.stream(FrameStdout), Stderr: sess.stream(FrameStderr),
		Resize: sess.resize, Started: func(string) { sess.upgrade() },
	})
	if !sess.upgraded() {
		if err != nil {
			return err
		}
		// It ended before it started (it can't): answer as a plain run.
		return writeJSON(w, http.StatusOK, RunExit{Run: run})
	}
	exit := RunExit{Run: run}
	if err != nil {
		exit.Error = &ErrorBody{Code: jack.ErrorCode(err), Message: jack.ErrorMessage(err)}
	}
	body, _ := json.Marshal(exit)
	sess.frames.WriteFrame(FrameExit, body)
	sess.close()
	return nil
}

// runSession is the server's side of one run stream.
type runSession struct {
	s      *server
	w      http.ResponseWriter
	cancel context.CancelFunc
	stdin  *io.PipeWriter
	resize chan jack.TermSize

	mu     sync.Mutex
	conn   net.Conn
	frames *FrameWriter
	failed bool
}

// upgrade hijacks the connection, answers 101 and starts reading the
// client's frames. A connection that can't be hijacked stops the run.
func (ss *runSession) upgrade() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	conn, buf, err := http.NewResponseController(ss.w).Hijack()
	if err != nil {
		ss.s.logger.Error("hijack run connection", "err", err)
		ss.failed = true
		ss.cancel()
		return
	}
	ss.conn = conn
	buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + RunUpgrade + "\r\n\r\n")
	if err := buf.Flush(); err != nil {
		ss.cancel()
	}
	ss.frames = NewFrameWriter(conn)
	go ss.readFrames(buf.Reader)
}

func (ss *runSession) upgraded() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.conn != nil
}

// stream returns the writer of one output stream; a write that fails (the
// client is gone) stops the run.
func (ss *runSession) stream(kind byte) io.Writer {
	return writerFunc(func(b []byte) (int, error) {
		ss.mu.Lock()
		frames := ss.frames
		ss.mu.Unlock()
		if frames == nil {
			return len(b), nil
		}
		if _, err := frames.Stream(kind).Write(b); err != nil {
			ss.cancel()
			return 0, err
		}
		return len(b), nil
	})
}

// readFrames feeds stdin and sizes to the run until the client stops it
// or goes away, which stops the container.
func (ss *runSession) readFrames(r *bufio.Reader) {
	defer close(ss.resize)
	for {
		kind, payload, err := ReadFrame(r)
		if err != nil {
			ss.stdin.CloseWithError(io.EOF)
			ss.cancel()
			return
		}
		switch kind {
		case FrameStdin:
			if _, err := ss.stdin.Write(payload); err != nil {
				continue // the command closed its input
			}
		case FrameStdinClose:
			ss.stdin.Close()
		case FrameResize:
			var size jack.TermSize
			if json.Unmarshal(payload, &size) == nil {
				select {
				case ss.resize <- size:
				default:
				}
			}
		case FrameStop:
			ss.cancel()
		}
	}
}

func (ss *runSession) close() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.conn != nil {
		ss.conn.Close()
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// handleListRuns answers GET .../runs?limit=N&kind=run|cron.
func (s *server) handleListRuns(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit", 0)
	if err != nil {
		return err
	}
	kind := r.URL.Query().Get("kind")
	if kind != "" && kind != jack.KindRun && kind != jack.KindCron {
		return jack.Errorf(jack.EINVALID, "kind %q is not known; use run or cron", kind)
	}
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	runs, err := s.store.ListRuns(r.Context(), env.ID, kind, r.URL.Query().Get("job"), clampLimit(limit, 20, 1000))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(runs))
}

// handleListCron answers GET .../cron: the jobs with next and last runs.
func (s *server) handleListCron(w http.ResponseWriter, r *http.Request) error {
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	runner, err := s.runnerOrFail()
	if err != nil {
		return err
	}
	jobs, err := runner.CronJobs(r.Context(), env.App, env.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(jobs))
}

// handleRunCron answers POST .../cron/{job}/runs: it runs the job now and
// answers with the run once it has ended.
func (s *server) handleRunCron(w http.ResponseWriter, r *http.Request) error {
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	job := r.PathValue("job")
	if err := jack.ValidateName("cron job", job); err != nil {
		return err
	}
	runner, err := s.runnerOrFail()
	if err != nil {
		return err
	}
	run, err := runner.RunCron(r.Context(), env.App, env.Name, job)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, run)
}

// runRoutes adds the endpoints of one-off runs and cron jobs under the
// environment's path env.
func (s *server) runRoutes(mux *http.ServeMux, env string) {
	for pattern, h := range map[string]handlerFunc{
		"POST " + env + "/runs":            s.handleRun,
		"GET " + env + "/runs":             s.handleListRuns,
		"GET " + env + "/cron":             s.handleListCron,
		"POST " + env + "/cron/{job}/runs": s.handleRunCron,
	} {
		mux.Handle(pattern, s.authenticated(h))
	}
}
