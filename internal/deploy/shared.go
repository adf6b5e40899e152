package deploy

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	jack "github.com/jack-paas/jack"
)

// shared is what the Orchestrator and its smaller services (Edge, OneOffs,
// Cron) have in common: the store and the runtime, the clock, the event
// log, and the context that ends at Close. Each embeds it.
type shared struct {
	store   jack.Store
	runtime jack.Runtime
	// owner is the installation's ID, put on every container.
	owner  string
	logger *slog.Logger
	now    func() time.Time
	// onEvent is told after an event of an environment is stored.
	onEvent func(envID int64)
	ctx     context.Context // ends at Close; parent of deployments, runs and loops
}

// event stores an event of an environment; failures are only logged, since
// an event is never worth failing the action it tells of.
func (s *shared) event(envID int64, kind, format string, args ...any) {
	e := &jack.Event{EnvID: envID, Time: s.now(), Kind: kind, Message: fmt.Sprintf(format, args...)}
	if err := s.store.AddEvent(context.WithoutCancel(s.ctx), e); err != nil {
		s.logger.Error("store event", "env", envID, "err", err)
	} else if s.onEvent != nil {
		s.onEvent(envID)
	}
}

// current returns the release that serves and its version.
func (s *shared) current(ctx context.Context, env *jack.Environment) (*jack.Release, *jack.Version, error) {
	rel, err := s.store.FindRelease(ctx, env.ID, env.Release)
	if err != nil {
		return nil, nil, fmt.Errorf("find release %d: %w", env.Release, err)
	}
	v, err := s.store.FindVersionByID(ctx, rel.VersionID)
	if err != nil {
		return nil, nil, fmt.Errorf("find version of release %d: %w", env.Release, err)
	}
	return rel, v, nil
}

// serving returns an environment with the release that serves and its
// version; EINVALID before its first deploy.
func (s *shared) serving(ctx context.Context, app, envName string) (*jack.Environment, *jack.Release, *jack.Version, error) {
	env, err := s.store.FindEnv(ctx, app, envName)
	if err != nil {
		return nil, nil, nil, err
	}
	if env.Release == 0 {
		return nil, nil, nil, jack.Errorf(jack.EINVALID, "%s has never been deployed; deploy it first (jack deploy %s --image REF)", env.Ref(), env.Ref())
	}
	rel, v, err := s.current(ctx, env)
	if err != nil {
		return nil, nil, nil, err
	}
	return env, rel, v, nil
}
