package logs

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	jack "github.com/jack-paas/jack"
)

// Intervals of the store's upkeep.
const (
	snapshotInterval  = time.Second
	retentionInterval = 30 * time.Second
)

// Store keeps the log of every environment in a folder, DIR/APP/ENV, and
// does their upkeep in the background: sealing full segments, writing
// cursors, deleting what retention no longer keeps.
type Store struct {
	dir    string
	logger *slog.Logger
	now    func() time.Time

	mu       sync.Mutex
	logs     map[string]*envLog // by APP/ENV
	settings map[string]jack.LogSettings

	sealCh chan *envLog
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// OpenStore opens the logs in dir (creating it), recovering each from what
// a crash left, and starts the upkeep.
func OpenStore(dir string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create logs folder: %w", err)
	}
	s := &Store{
		dir: dir, logger: logger, now: time.Now,
		logs: map[string]*envLog{}, settings: map[string]jack.LogSettings{},
		sealCh: make(chan *envLog, 64),
	}
	if err := s.openExisting(); err != nil {
		s.closeLogs()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(2)
	go s.sealLoop(ctx)
	go s.upkeepLoop(ctx)
	for _, l := range s.all() {
		s.sealSoon(l) // what a crash left unsealed
	}
	return s, nil
}

// openExisting opens every environment's log found in the folder.
func (s *Store) openExisting() error {
	apps, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("read logs folder: %w", err)
	}
	for _, app := range apps {
		if !app.IsDir() || jack.ValidateName("app", app.Name()) != nil {
			continue
		}
		envs, err := os.ReadDir(filepath.Join(s.dir, app.Name()))
		if err != nil {
			return fmt.Errorf("read logs folder: %w", err)
		}
		for _, env := range envs {
			if !env.IsDir() || jack.ValidateName("environment", env.Name()) != nil {
				continue
			}
			if _, err := s.Env(app.Name(), env.Name()); err != nil {
				return err
			}
		}
	}
	return nil
}

// Env returns the log of an environment, opening or creating it.
func (s *Store) Env(app, env string) (*envLog, error) {
	if err := jack.ValidateName("app", app); err != nil {
		return nil, err
	}
	if err := jack.ValidateName("environment", env); err != nil {
		return nil, err
	}
	ref := app + "/" + env
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.logs[ref]; l != nil {
		return l, nil
	}
	l, err := openEnvLog(filepath.Join(s.dir, app, env), app, env, s.logger, s.sealSoon)
	if err != nil {
		return nil, fmt.Errorf("open log of %s: %w", ref, err)
	}
	l.setSegmentLimit(segmentLimit(s.settingsLocked(ref)))
	s.logs[ref] = l
	return l, nil
}

// SetSettings sets an environment's retention; zero fields are defaults.
// It applies at the next upkeep.
func (s *Store) SetSettings(app, env string, settings jack.LogSettings) {
	s.mu.Lock()
	ref := app + "/" + env
	s.settings[ref] = settings
	l := s.logs[ref]
	s.mu.Unlock()
	if l != nil {
		l.setSegmentLimit(segmentLimit(settings.WithDefaults()))
	}
}

func (s *Store) settingsLocked(ref string) jack.LogSettings {
	return s.settings[ref].WithDefaults()
}

// all returns the open logs.
func (s *Store) all() []*envLog {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*envLog, 0, len(s.logs))
	for _, l := range s.logs {
		out = append(out, l)
	}
	return out
}

// sealSoon queues a log for sealing its full segments. It never blocks: a
// log already queued or a full queue waits for the next upkeep.
func (s *Store) sealSoon(l *envLog) {
	select {
	case s.sealCh <- l:
	default:
	}
}

// sealLoop seals segments one at a time, so that compression takes one
// core at most, and at a low priority, so that it takes what the rest
// leaves.
func (s *Store) sealLoop(ctx context.Context) {
	defer s.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case l := <-s.sealCh:
			var err error
			atLowPriority(func() { err = l.sealPending() })
			if err != nil {
				s.logger.Error("seal log segment", "env", l.app+"/"+l.env, "err", err)
			}
		}
	}
}

// upkeepLoop writes cursors every second and enforces retention every
// retentionInterval.
func (s *Store) upkeepLoop(ctx context.Context) {
	defer s.wg.Done()
	snap := time.NewTicker(snapshotInterval)
	defer snap.Stop()
	retain := time.NewTicker(retentionInterval)
	defer retain.Stop()
	s.Enforce()
	for {
		select {
		case <-ctx.Done():
			return
		case <-snap.C:
			for _, l := range s.all() {
				if err := l.snapshot(); err != nil {
					s.logger.Error("write log cursors", "env", l.app+"/"+l.env, "err", err)
				}
			}
		case <-retain.C:
			s.Enforce()
		}
	}
}

// Enforce applies every log's retention now.
func (s *Store) Enforce() {
	now := s.now()
	for _, l := range s.all() {
		s.mu.Lock()
		settings := s.settingsLocked(l.app + "/" + l.env)
		s.mu.Unlock()
		if n := l.enforce(now, settings); n > 0 {
			s.logger.Info("deleted old log records", "env", l.app+"/"+l.env, "records", n)
		}
		s.sealSoon(l)
	}
}

// Close stops the upkeep, writes every log's cursors and closes the files.
func (s *Store) Close() error {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	return s.closeLogs()
}

func (s *Store) closeLogs() error {
	var first error
	for _, l := range s.all() {
		if err := l.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Append stores records as they are, each in its environment's log, for
// writers that have no cursor to keep (tests, imports). A record's source
// is its container, else "append".
func (s *Store) Append(recs []*jack.LogRecord) error {
	byEnv := map[string][]record{}
	var refs []string
	for _, r := range recs {
		ref := r.App + "/" + r.Env
		if _, ok := byEnv[ref]; !ok {
			refs = append(refs, ref)
		}
		source := r.Container
		if source == "" {
			source = "append"
		}
		byEnv[ref] = append(byEnv[ref], record{
			Time: r.Time.UnixNano(), Stream: r.Stream, Release: r.Release, Source: source,
			Process: r.Process, Instance: r.Instance, Line: r.Line,
		})
	}
	for _, ref := range refs {
		app, env, _ := strings.Cut(ref, "/")
		l, err := s.Env(app, env)
		if err != nil {
			return err
		}
		if err := l.append(byEnv[ref]); err != nil {
			return err
		}
	}
	return nil
}
