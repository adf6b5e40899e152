package deploy

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	jack "github.com/jack-paas/jack"
)

// Config is what an Orchestrator is built from.
type Config struct {
	Store   jack.Store
	Runtime jack.Runtime
	Router  jack.Router
	// Owner is the installation's ID, put on every instance so that two
	// Jacks on one engine never touch each other's containers.
	Owner string
	// Domain is the suffix of environments' default hosts: ENV.APP.DOMAIN.
	Domain string
	Logger *slog.Logger
	// Now returns the time; tests may set it.
	Now func() time.Time
	// HealInterval is how often every environment is compared with its
	// release as a safety net behind the engine's events; default 10s.
	HealInterval time.Duration
	// CheckFailures is how many continuous health checks in a row an
	// instance must fail to leave the rotation; default 3.
	CheckFailures int
	// OnDeployment, when set, is told when a deployment starts and ends
	// (for notifications). It must not block.
	OnDeployment func(jack.DeployNotice)
	// OnEvent, when set, is called after an event of an environment is
	// stored (the log collector copies it into the environment's log). It
	// must not block.
	OnEvent func(envID int64)
	// StaticDir holds the static files of versions (DATA/static); "" turns
	// static files off.
	StaticDir string
	// Certificates keeps the certificate files of domains; nil refuses
	// them.
	Certificates jack.CertificateStore
	// RegistryAuth, when set, gives the credentials of registries that
	// the store does not keep (Jack's own, whose pull token lives only in
	// memory); nil for a host means the store's, if any.
	RegistryAuth func(host string) *jack.RegistryAuth
}

// Orchestrator implements jack.Orchestrator: it deploys, rolls back,
// scales, restarts and reconfigures environments, and keeps their instances
// running between deployments. Changes at the edge, one-off runs and cron
// jobs are its smaller services over the same state: Edge, OneOffs and Cron.
type Orchestrator struct {
	*shared
	router       jack.Router
	domain       string
	healInterval time.Duration
	checker      checkerConfig // see checker.go

	mu      sync.Mutex // guards envs, their instances, and running deployments
	envs    map[int64]*envState
	running map[int64]*jack.Deployment
	// imageManifests caches each image's /jack.yaml (nil: it has none).
	imageManifests map[string][]byte
	watchers       watchers

	publishMu  sync.Mutex // orders route tables
	generation int64

	staticDir   string
	extraAuth   func(host string) *jack.RegistryAuth // Config.RegistryAuth
	versionsMu  sync.Mutex
	versions    map[string]*jack.Version // by "appID/label"
	lastCollect time.Time                // of static folders, by the heal loop

	edge    *Edge
	oneOffs *OneOffs
	cron    *Cron

	cancel context.CancelFunc // ends shared.ctx
	wg     sync.WaitGroup
	healCh chan int64 // environments to heal; 0 for all
}

var _ jack.Orchestrator = (*Orchestrator)(nil)

// New returns an orchestrator, with its Edge, OneOffs and Cron; Open
// starts it.
func New(cfg Config) *Orchestrator {
	sh := &shared{
		store: cfg.Store, runtime: cfg.Runtime, owner: cfg.Owner,
		logger: cfg.Logger, now: cfg.Now, onEvent: cfg.OnEvent,
	}
	if sh.logger == nil {
		sh.logger = slog.Default()
	}
	if sh.now == nil {
		sh.now = time.Now
	}
	var cancel context.CancelFunc
	sh.ctx, cancel = context.WithCancel(context.Background())
	o := &Orchestrator{
		shared: sh, router: cfg.Router, domain: cfg.Domain,
		healInterval: cfg.HealInterval,
		checker:      checkerConfig{failures: cfg.CheckFailures, onDeployment: cfg.OnDeployment},
		staticDir:    cfg.StaticDir,
		extraAuth:    cfg.RegistryAuth,
		versions:     map[string]*jack.Version{},
		envs:         map[int64]*envState{},
		running:      map[int64]*jack.Deployment{},
		cancel:       cancel,
		healCh:       make(chan int64, 64),
	}
	if o.domain == "" {
		o.domain = "localhost"
	}
	if o.checker.failures <= 0 {
		o.checker.failures = defaultCheckFailures
	}
	if o.healInterval == 0 {
		o.healInterval = 10 * time.Second
	}
	o.edge = &Edge{shared: sh, certs: cfg.Certificates, publish: o.publish}
	o.oneOffs = &OneOffs{shared: sh}
	o.cron = &Cron{shared: sh, running: map[string]int{}}
	return o
}

// Edge returns the service that changes environments' domains, edge
// settings and certificates (jack.EdgeService, jack.CertificateService).
func (o *Orchestrator) Edge() *Edge { return o.edge }

// OneOffs returns the service that runs one-off commands of environments.
func (o *Orchestrator) OneOffs() *OneOffs { return o.oneOffs }

// Cron returns the service that runs environments' cron jobs.
func (o *Orchestrator) Cron() *Cron { return o.cron }

// Open adopts the instances the runtime runs for this installation, ends
// the deployments a previous run was interrupted in, publishes the route
// table, and starts watching the engine.
func (o *Orchestrator) Open(ctx context.Context) error {
	events := o.runtime.Watch(o.ctx)
	// First the instances, so that the router, which served alone while
	// the daemon was down, gets the current table soonest.
	if err := o.adopt(ctx); err != nil {
		return err
	}
	// Restart counts go on from where the last run left them, before the
	// first death is watched.
	if err := o.loadDeaths(ctx); err != nil {
		return fmt.Errorf("load instance restart counts: %w", err)
	}
	if err := o.oneOffs.endInterrupted(ctx); err != nil {
		return err
	}
	o.collectStatic(ctx, 0)
	o.wg.Add(3)
	go o.watch(events)
	go o.healLoop()
	go o.checkLoop()
	o.requestHeal(0)
	return nil
}

// Close stops the loops and interrupts running deployments without undoing
// them: containers keep running, and the next Open undoes what is half done,
// as after a crash.
func (o *Orchestrator) Close() error {
	o.cancel()
	o.wg.Wait()
	return nil
}

// state returns the in-memory state of an environment, made on first use.
// The caller holds o.mu.
func (o *Orchestrator) state(envID int64) *envState {
	st := o.envs[envID]
	if st == nil {
		st = newEnvState()
		o.envs[envID] = st
	}
	return st
}

// lockedState returns an environment's state, taking o.mu for the lookup.
func (o *Orchestrator) lockedState(envID int64) *envState {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.state(envID)
}

// Instances returns an environment's instances as they are now.
func (o *Orchestrator) Instances(ctx context.Context, app, envName string) ([]*jack.Instance, error) {
	env, err := o.store.FindEnv(ctx, app, envName)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	st := o.state(env.ID)
	var out []*jack.Instance
	for _, p := range st.processes() {
		for _, in := range st.byProcess(p) {
			v := in.view()
			v.Restarts = restartsOf(st, in.c.Name())
			o.fillRestarts(st, v)
			out = append(out, v)
		}
	}
	return out, nil
}

func restartsOf(st *envState, name string) int {
	if b := st.restarts[name]; b != nil {
		return b.failures
	}
	return 0
}

// WaitDeployment returns the deployment once it has more than seen steps or
// has ended, or when ctx ends.
func (o *Orchestrator) WaitDeployment(ctx context.Context, id int64, seen int) (*jack.Deployment, error) {
	for {
		wake := o.watchers.wait(id)
		d, err := o.deployment(ctx, id)
		if err != nil {
			return nil, err
		}
		if len(d.Steps) > seen || d.Done() {
			return d, nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return d, nil
		}
	}
}

// deployment returns a copy of a running deployment from memory, else the
// stored one.
func (o *Orchestrator) deployment(ctx context.Context, id int64) (*jack.Deployment, error) {
	o.mu.Lock()
	if d, ok := o.running[id]; ok {
		cp := *d
		cp.Steps = append([]jack.Step(nil), d.Steps...)
		o.mu.Unlock()
		return &cp, nil
	}
	o.mu.Unlock()
	return o.store.FindDeployment(ctx, id)
}
