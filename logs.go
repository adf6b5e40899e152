package jack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Streams of a log record: what a container wrote to, or which part of
// Jack the record comes from.
const (
	StreamStdout = "stdout"
	StreamStderr = "stderr"
	StreamEvent  = "event"  // the platform's own events (deploy steps, restarts)
	StreamAccess = "access" // the router's access log
)

// Processes of records that no container wrote.
const (
	ProcessJack   = "jack"   // platform events
	ProcessRouter = "router" // the router's access log
)

// LogRecord is one line of an environment's log: a line a container wrote,
// a request the router served, or an event of the platform.
type LogRecord struct {
	Time      time.Time // from the engine, to the nanosecond
	App, Env  string
	Process   string // web, worker, release, router, jack ...
	Instance  string // web.1; the event kind for events; "" for the router
	Container string // the container's short ID; "" when no container wrote it
	Release   int    // 0 when unknown
	Stream    string // stdout, stderr, event or access
	Line      []byte // without its newline; any bytes
}

// Source returns who wrote the record, as people read it: the instance
// (web.1), or process.instance when the instance does not name its process
// (jack.deploy), or the process alone (router).
func (r *LogRecord) Source() string {
	switch {
	case r.Instance == "":
		return r.Process
	case strings.HasPrefix(r.Instance, r.Process+"."):
		return r.Instance
	}
	return r.Process + "." + r.Instance
}

// logRecordJSON is LogRecord on the wire. Line is text; a line that is not
// valid UTF-8, which a JSON string cannot carry, also comes as Raw, its
// bytes in base64.
type logRecordJSON struct {
	Time      time.Time `json:"time"`
	App       string    `json:"app"`
	Env       string    `json:"env"`
	Process   string    `json:"process"`
	Instance  string    `json:"instance,omitempty"`
	Container string    `json:"container,omitempty"`
	Release   int       `json:"release,omitempty"`
	Stream    string    `json:"stream"`
	Line      string    `json:"line"`
	Raw       []byte    `json:"raw,omitempty"`
}

// MarshalJSON writes the record with its line as text, and its bytes in
// "raw" (base64) when they are not valid UTF-8.
func (r *LogRecord) MarshalJSON() ([]byte, error) {
	j := logRecordJSON{
		Time: r.Time.UTC(), App: r.App, Env: r.Env, Process: r.Process, Instance: r.Instance,
		Container: r.Container, Release: r.Release, Stream: r.Stream,
	}
	if utf8.Valid(r.Line) {
		j.Line = string(r.Line)
	} else {
		j.Line = strings.ToValidUTF8(string(r.Line), "\uFFFD")
		j.Raw = r.Line
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes, taking the bytes of "raw"
// when present.
func (r *LogRecord) UnmarshalJSON(b []byte) error {
	var j logRecordJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = LogRecord{
		Time: j.Time, App: j.App, Env: j.Env, Process: j.Process, Instance: j.Instance,
		Container: j.Container, Release: j.Release, Stream: j.Stream, Line: []byte(j.Line),
	}
	if j.Raw != nil {
		r.Line = j.Raw
	}
	return nil
}

// LogQuery selects records of one environment. Zero fields select all.
type LogQuery struct {
	App, Env string
	Process  string    // only this process's records
	Instance string    // only this instance's (web.1) or container's (ID prefix)
	Since    time.Time // records at or after
	Until    time.Time // records before
	// N keeps the last N records of those selected (0: all). With Follow,
	// the last N are sent before the new ones.
	N    int
	Grep string // a regular expression (Go syntax) the line must match
	// Follow keeps sending records as they are collected until ctx ends.
	Follow bool
}

// Validate checks the query, and returns its compiled Grep (nil when
// empty). EINVALID says what is wrong.
func (q *LogQuery) Validate() (*regexp.Regexp, error) {
	if err := ValidateName("app", q.App); err != nil {
		return nil, err
	}
	if err := ValidateName("environment", q.Env); err != nil {
		return nil, err
	}
	if q.N < 0 {
		return nil, Errorf(EINVALID, "-n %d is negative; give how many of the last lines to show", q.N)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return nil, Errorf(EINVALID, "the time range ends (until %s) before it starts (since %s); give an --until later than --since",
			q.Until.Format(time.RFC3339), q.Since.Format(time.RFC3339))
	}
	if q.Follow && !q.Until.IsZero() {
		return nil, Errorf(EINVALID, "--until and --follow don't go together: a follow has no end; drop one")
	}
	if q.Grep == "" {
		return nil, nil
	}
	re, err := regexp.Compile(q.Grep)
	if err != nil {
		msg := err.Error()
		if s, ok := strings.CutPrefix(msg, "error parsing regexp: "); ok {
			msg = s
		}
		return nil, Errorf(EINVALID, "--grep %q is not a valid regular expression (%s); use Go's syntax, as in 'error|warn' or '(?i)timeout'", q.Grep, msg)
	}
	return re, nil
}

// LogSettings are how long and how much of an environment's log Jack keeps.
type LogSettings struct {
	// Retention is how long records are kept; default 7 days.
	Retention time.Duration `json:"retention"`
	// MaxBytes bounds the log's size on disk; default 1 GiB. The oldest
	// records go first.
	MaxBytes int64 `json:"max_bytes"`
}

// Defaults of LogSettings.
const (
	DefaultLogRetention = 7 * 24 * time.Hour
	DefaultLogMaxBytes  = 1 << 30
)

// Bounds of LogSettings.
const (
	MinLogRetention = time.Hour
	MaxLogRetention = 10 * 365 * 24 * time.Hour
	MinLogMaxBytes  = 1 << 20
	MaxLogMaxBytes  = 1 << 50
)

// WithDefaults returns the settings with zero fields set to the defaults.
func (s LogSettings) WithDefaults() LogSettings {
	if s.Retention == 0 {
		s.Retention = DefaultLogRetention
	}
	if s.MaxBytes == 0 {
		s.MaxBytes = DefaultLogMaxBytes
	}
	return s
}

// Validate checks the settings' bounds; zero fields mean "unchanged" or
// "default" and pass.
func (s LogSettings) Validate() error {
	if s.Retention != 0 && (s.Retention < MinLogRetention || s.Retention > MaxLogRetention) {
		return Errorf(EINVALID, "retention %s is out of range; give from 1h to 3650d", s.Retention)
	}
	if s.MaxBytes != 0 && (s.MaxBytes < MinLogMaxBytes || s.MaxBytes > MaxLogMaxBytes) {
		return Errorf(EINVALID, "max size %d bytes is out of range; give from 1m (1 MiB) to 1p", s.MaxBytes)
	}
	return nil
}

// LogUsage is what an environment's log holds now.
type LogUsage struct {
	Bytes    int64     `json:"bytes"`    // on disk
	Segments int       `json:"segments"` // files
	Oldest   time.Time `json:"oldest"`   // time of the oldest record kept; zero when empty
}

// LogDrain forwards an environment's log to a syslog or HTTPS endpoint.
type LogDrain struct {
	ID        int64     `json:"id"`
	EnvID     int64     `json:"env_id"`
	URL       string    `json:"url"`
	CreatedAt time.Time `json:"created_at"`
}

// DrainStatus is how a drain is doing.
type DrainStatus struct {
	LogDrain
	Sent      int64     `json:"sent"`    // lines delivered since the daemon started
	Pending   int64     `json:"pending"` // bytes waiting in its queue
	Dropped   int64     `json:"dropped"` // lines dropped since it was added, its queue being full
	LastError string    `json:"last_error,omitempty"`
	FailingAt time.Time `json:"failing_since,omitzero"`
}

// LogStore keeps the log settings and drains of environments; the records
// themselves live in files (internal/logs).
type LogStore interface {
	// LogSettings returns an environment's settings; zero fields when never set.
	LogSettings(ctx context.Context, envID int64) (LogSettings, error)
	// SetLogSettings stores an environment's settings; zero fields are left
	// as they were. ENOTFOUND if the environment is gone.
	SetLogSettings(ctx context.Context, envID int64, s LogSettings) error
	// AddDrain stores a drain and sets its ID and CreatedAt. ECONFLICT if
	// the environment has a drain with the same URL.
	AddDrain(ctx context.Context, d *LogDrain) error
	// ListDrains returns the drains of an environment, or of every
	// environment when envID is 0, oldest first.
	ListDrains(ctx context.Context, envID int64) ([]*LogDrain, error)
	// DeleteDrain removes a drain by its URL. ENOTFOUND if it has none.
	DeleteDrain(ctx context.Context, envID int64, url string) (*LogDrain, error)
}

// LogService is what the API offers of logs: reading, following, drains
// and retention. Methods return ENOTFOUND for an environment that does not
// exist.
type LogService interface {
	// ReadLogs calls fn with each record q selects, in the order they were
	// collected; with q.Follow it then calls fn with each new record until
	// ctx ends or fn fails. Each time it has passed every record stored so
	// far, and every 15 seconds while it waits for more, it calls fn with
	// nil, so that a caller that buffers can flush. EINVALID for a bad
	// query, before fn is called.
	ReadLogs(ctx context.Context, q LogQuery, fn func(*LogRecord) error) error
	// Settings returns an environment's log settings (defaults filled in)
	// and usage.
	Settings(ctx context.Context, app, env string) (LogSettings, LogUsage, error)
	// SetSettings changes them; zero fields stay as they were.
	SetSettings(ctx context.Context, app, env string, s LogSettings) (LogSettings, LogUsage, error)
	// AddDrain adds a drain and starts forwarding new records to it.
	// EINVALID for a URL Jack can't use or whose TLS certificate does not
	// verify; ECONFLICT if the environment has it already.
	AddDrain(ctx context.Context, app, env, url string) (*DrainStatus, error)
	// Drains returns an environment's drains and how each is doing.
	Drains(ctx context.Context, app, env string) ([]*DrainStatus, error)
	// RemoveDrain stops and removes a drain. ENOTFOUND if there is none
	// with that URL.
	RemoveDrain(ctx context.Context, app, env, url string) error
}

// LogContainer is a container whose output Jack collects: an instance, a
// release command, a one-off or a cron run of an environment.
type LogContainer struct {
	ID       string
	App, Env string
	Process  string
	Instance string // web.1
	Release  int
	Running  bool
}

// LogLine is one line a container wrote, as the engine reports it.
type LogLine struct {
	Time   time.Time
	Stream string // stdout or stderr
	Line   []byte // without its newline; valid until the next Read
}

// LogStream is a container's output, read from a point in time on.
type LogStream interface {
	// Read returns the next lines: at least one, and as many more as have
	// arrived already, up to a bounded size. It blocks while the container
	// runs and writes nothing, and returns io.EOF once the container has
	// stopped and every line was read; ErrLogReopen when the stream can't
	// go on but one opened again at the reader's cursor can. The lines are
	// valid until the next call.
	Read() ([]LogLine, error)
	io.Closer
}

// ErrLogReopen ends a LogStream that lost its place (the engine rotated its
// files in a way it can't follow): open it again at the cursor.
var ErrLogReopen = errors.New("the log stream lost its place in the engine's files; open it again")

// LogSource is where the collector reads containers' output: the engine.
// Methods return EUNAVAILABLE when it does not answer.
type LogSource interface {
	// LogContainers returns every container of this installation that
	// belongs to an environment, running or not.
	LogContainers(ctx context.Context) ([]*LogContainer, error)
	// InspectLogContainer returns one of them. ENOTFOUND if it is gone.
	InspectLogContainer(ctx context.Context, id string) (*LogContainer, error)
	// WatchLogContainers sends the ID of each such container that starts,
	// and "" when events may have been missed (list again), until ctx ends.
	WatchLogContainers(ctx context.Context) <-chan string
	// LatestLogTime returns the stamp of the last line the engine holds of
	// a container (zero when none), so that a reader whose stream went
	// quiet can tell whether the stream is stuck. ENOTFOUND if it is gone.
	LatestLogTime(ctx context.Context, id string) (time.Time, error)
	// OpenLogs opens a container's output from the line stamped since on
	// (inclusive; from the first line when zero), stdout and stderr in the
	// order the engine stored them, lines the engine split joined again.
	// With follow, it follows the container while it runs; without, it
	// ends after the last line stored when it opened. ENOTFOUND if it is
	// gone.
	OpenLogs(ctx context.Context, id string, since time.Time, follow bool) (LogStream, error)
}

// FragileFollow is implemented by a LogStream that may lose or repeat lines
// when it follows a container it is far behind: Docker 20.10's log API
// does, when a file rotates under a reader that is behind. The collector
// reads such a container without following while it is behind.
type FragileFollow interface {
	FollowIsFragile() bool
}
