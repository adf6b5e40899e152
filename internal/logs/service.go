package logs

import (
	"context"
	"time"

	jack "github.com/jack-paas/jack"
)

// ServiceStore is what the Service reads in Jack's store.
type ServiceStore interface {
	jack.EnvStore
	jack.LogStore
}

// Service is the daemon's jack.LogService: reading and following from the
// Store, retention settings from Jack's store, and the drains.
type Service struct {
	logs   *Store
	store  ServiceStore
	drains *Drains
	now    func() time.Time
}

var _ jack.LogService = (*Service)(nil)

// NewService returns the log service over logs, store and drains.
func NewService(logs *Store, store ServiceStore, drains *Drains) *Service {
	return &Service{logs: logs, store: store, drains: drains, now: time.Now}
}

// LoadSettings gives the Store every environment's stored retention.
func (s *Service) LoadSettings(ctx context.Context) error {
	envs, err := s.store.ListEnvs(ctx, "")
	if err != nil {
		return err
	}
	for _, env := range envs {
		settings, err := s.store.LogSettings(ctx, env.ID)
		if err != nil {
			return err
		}
		s.logs.SetSettings(env.App, env.Name, settings)
	}
	return nil
}

// ReadLogs calls fn with the records q selects; ENOTFOUND if the
// environment does not exist.
func (s *Service) ReadLogs(ctx context.Context, q jack.LogQuery, fn func(*jack.LogRecord) error) error {
	if _, err := q.Validate(); err != nil {
		return err
	}
	if _, err := s.store.FindEnv(ctx, q.App, q.Env); err != nil {
		return err
	}
	return s.logs.Read(ctx, q, fn)
}

// Settings returns an environment's retention (defaults filled in) and
// what its log holds.
func (s *Service) Settings(ctx context.Context, app, env string) (jack.LogSettings, jack.LogUsage, error) {
	e, err := s.store.FindEnv(ctx, app, env)
	if err != nil {
		return jack.LogSettings{}, jack.LogUsage{}, err
	}
	settings, err := s.store.LogSettings(ctx, e.ID)
	if err != nil {
		return jack.LogSettings{}, jack.LogUsage{}, err
	}
	usage, err := s.usage(app, env)
	return settings.WithDefaults(), usage, err
}

// SetSettings changes an environment's retention and applies it at once.
func (s *Service) SetSettings(ctx context.Context, app, env string, settings jack.LogSettings) (jack.LogSettings, jack.LogUsage, error) {
	if err := settings.Validate(); err != nil {
		return jack.LogSettings{}, jack.LogUsage{}, err
	}
	e, err := s.store.FindEnv(ctx, app, env)
	if err != nil {
		return jack.LogSettings{}, jack.LogUsage{}, err
	}
	if err := s.store.SetLogSettings(ctx, e.ID, settings); err != nil {
		return jack.LogSettings{}, jack.LogUsage{}, err
	}
	stored, err := s.store.LogSettings(ctx, e.ID)
	if err != nil {
		return jack.LogSettings{}, jack.LogUsage{}, err
	}
	s.logs.SetSettings(app, env, stored)
	l, err := s.logs.Env(app, env)
	if err != nil {
		return jack.LogSettings{}, jack.LogUsage{}, err
	}
	l.enforce(s.now(), stored)
	s.logs.sealSoon(l)
	usage, err := s.usage(app, env)
	return stored.WithDefaults(), usage, err
}

func (s *Service) usage(app, env string) (jack.LogUsage, error) {
	l, err := s.logs.Env(app, env)
	if err != nil {
		return jack.LogUsage{}, err
	}
	bytes, segments, oldest := l.usage()
	u := jack.LogUsage{Bytes: bytes, Segments: segments}
	if oldest != 0 {
		u.Oldest = time.Unix(0, oldest).UTC()
	}
	return u, nil
}

// AddDrain adds a drain to an environment.
func (s *Service) AddDrain(ctx context.Context, app, env, url string) (*jack.DrainStatus, error) {
	e, err := s.findEnv(ctx, app, env)
	if err != nil {
		return nil, err
	}
	return s.drains.Add(ctx, e, url)
}

// Drains lists an environment's drains.
func (s *Service) Drains(ctx context.Context, app, env string) ([]*jack.DrainStatus, error) {
	e, err := s.findEnv(ctx, app, env)
	if err != nil {
		return nil, err
	}
	return s.drains.List(ctx, e)
}

// RemoveDrain removes an environment's drain.
func (s *Service) RemoveDrain(ctx context.Context, app, env, url string) error {
	e, err := s.findEnv(ctx, app, env)
	if err != nil {
		return err
	}
	return s.drains.Remove(ctx, e, url)
}

func (s *Service) findEnv(ctx context.Context, app, env string) (*jack.Environment, error) {
	if err := jack.ValidateName("app", app); err != nil {
		return nil, err
	}
	if err := jack.ValidateName("environment", env); err != nil {
		return nil, err
	}
	return s.store.FindEnv(ctx, app, env)
}
