package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	jack "github.com/jack-paas/jack"
)

// Config is what a Monitor is built from.
type Config struct {
	Store        jack.Store
	Orchestrator jack.Orchestrator // for each environment's instances
	Stats        jack.StatsRuntime // nil: no instance metrics
	Router       jack.RouterStats  // nil: no traffic metrics
	// Interval is how often instances are sampled; default 10s.
	Interval   time.Duration
	Thresholds Thresholds
	// OnHealthChange, when set, is told of each change of an environment's
	// health between ok, warning, degraded, severe and unknown (not of the
	// pending state during deployments, which deploy notices cover). It
	// must not block.
	OnHealthChange func(env *jack.Environment, from string, to *jack.Health)
	// StatsD, when set, gets every round's numbers.
	StatsD *StatsD
	Logger *slog.Logger
	Now    func() time.Time
}

// Monitor samples, keeps rollups, judges health and serves the numbers. It
// implements jack.HealthService.
type Monitor struct {
	cfg    Config
	logger *slog.Logger
	now    func() time.Time

	mu       sync.Mutex
	samples  map[string]*sample // by container ID, the latest round's
	hist     history
	windows  map[string]*window // by app/env, over the last minute
	envs     []*envRound        // the latest round
	health   map[int64]*healthRecord
	sampled  bool
	expected map[string]map[string]int // by envID/release

	rollups    *rollups
	routerDown bool

	cancel context.CancelFunc
	done   chan struct{}
}

var _ jack.HealthService = (*Monitor)(nil)

// healthRecord is what the monitor remembers of an environment's health.
type healthRecord struct {
	state    string
	since    time.Time
	notified string // the last state told to OnHealthChange
}

// sample is an instance's latest counters, with its CPU use over the
// interval before.
type sample struct {
	stats      *jack.ContainerStats
	cpuPercent float64 // of one core
	hasRate    bool
}

// envRound is one environment as the latest round saw it.
type envRound struct {
	env       *jack.Environment
	instances []*instRound
	health    *jack.Health
	traffic   *window // since the previous round, for StatsD and rollups
}

// instRound is one instance in a round, with what its counters moved
// since the previous round.
type instRound struct {
	inst   *jack.Instance
	sample *sample // nil when it could not be sampled
	moved  counters
}

// counters are the byte and restart counts that rollups and StatsD take
// differences of.
type counters struct {
	netRx, netTx, blockRead, blockWrite uint64
	restarts                            int
}

// New returns a monitor; Start starts its loop.
func New(cfg Config) *Monitor {
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Second
	}
	if cfg.Thresholds == (Thresholds{}) {
		cfg.Thresholds = DefaultThresholds
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Monitor{
		cfg: cfg, logger: cfg.Logger, now: cfg.Now,
		samples: map[string]*sample{}, health: map[int64]*healthRecord{},
		expected: map[string]map[string]int{}, rollups: newRollups(),
	}
}

// healthEvery is how often health is judged between sampling rounds, so
// that a transition shorter than the sampling interval is still seen and
// told.
const healthEvery = time.Second

// Start runs the loop in the background until Close: a sampling round
// every Interval, and health judged every second in between.
func (m *Monitor) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel, m.done = cancel, make(chan struct{})
	go func() {
		defer close(m.done)
		tick := time.NewTicker(min(healthEvery, m.cfg.Interval))
		defer tick.Stop()
		last := time.Now()
		m.Round(ctx)
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if time.Since(last) >= m.cfg.Interval-healthEvery/10 {
				last = time.Now()
				m.Round(ctx)
			} else {
				m.judge(ctx)
			}
		}
	}()
}

// judge evaluates every environment's health with the latest samples and
// reports transitions, without sampling.
func (m *Monitor) judge(ctx context.Context) {
	envs, err := m.cfg.Store.ListEnvs(ctx, "")
	if err != nil {
		return
	}
	deploying, _ := m.deploying(ctx)
	now := m.now()
	for _, env := range envs {
		instances, err := m.cfg.Orchestrator.Instances(ctx, env.App, env.Name)
		if err != nil {
			continue
		}
		m.record(ctx, env, m.evaluate(ctx, env, instances, deploying[env.ID], now), now)
	}
}

// Close stops the loop and waits for it.
func (m *Monitor) Close() error {
	if m.cancel != nil {
		m.cancel()
		<-m.done
	}
	return nil
}

// Round samples every environment once: instances, router, health,
// rollups, StatsD. The loop calls it every Interval; tests may call it.
func (m *Monitor) Round(ctx context.Context) {
	envs, err := m.cfg.Store.ListEnvs(ctx, "")
	if err != nil {
		if ctx.Err() == nil {
			m.logger.Error("metrics: list environments", "err", err)
		}
		return
	}
	deploying, err := m.deploying(ctx)
	if err != nil {
		m.logger.Error("metrics: list running deployments", "err", err)
	}
	snap := m.traffic(ctx)

	m.mu.Lock()
	prevSamples := m.samples
	prevSnap := m.hist.latest()
	m.mu.Unlock()

	rounds := make([]*envRound, 0, len(envs))
	samples := map[string]*sample{}
	for _, env := range envs {
		r := &envRound{env: env}
		instances, err := m.cfg.Orchestrator.Instances(ctx, env.App, env.Name)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			m.logger.Warn("metrics: list instances", "env", env.Ref(), "err", err)
		}
		for _, in := range instances {
			r.instances = append(r.instances, &instRound{inst: in})
		}
		rounds = append(rounds, r)
	}
	m.sampleAll(ctx, rounds, prevSamples, samples)

	m.mu.Lock()
	if snap != nil {
		m.hist.add(snap)
	}
	m.samples = samples
	m.windows = m.hist.windows()
	var sinceLast map[string]*window
	if snap != nil {
		if prevSnap != nil && !prevSnap.StartedAt.Equal(snap.StartedAt) {
			prevSnap = nil
		}
		if prevSnap != nil {
			sinceLast = between(prevSnap, snap)
		}
	}
	m.sampled = true
	m.mu.Unlock()

	now := m.now()
	for _, r := range rounds {
		r.traffic = sinceLast[r.env.Ref()]
		r.health = m.evaluate(ctx, r.env, instancesOf(r), deploying[r.env.ID], now)
		m.record(ctx, r.env, r.health, now)
	}
	m.mu.Lock()
	m.envs = rounds
	live := map[int64]bool{}
	for _, e := range envs {
		live[e.ID] = true
	}
	for id := range m.health {
		if !live[id] {
			delete(m.health, id) // the environment was deleted
		}
	}
	m.mu.Unlock()

	if err := m.rollups.add(ctx, m.cfg.Store, rounds, snapBounds(snap), now); err != nil && ctx.Err() == nil {
		m.logger.Error("metrics: save rollups", "err", err)
	}
	if m.cfg.StatsD != nil {
		if err := m.cfg.StatsD.push(rounds); err != nil {
			m.logger.Warn("metrics: push to StatsD", "err", err)
		}
	}
}

// sampleAll reads every running instance's counters, a few at a time. A
// container that fails (it vanished mid-round) is skipped; the others are
// sampled all the same.
func (m *Monitor) sampleAll(ctx context.Context, rounds []*envRound, prev, out map[string]*sample) {
	if m.cfg.Stats == nil {
		return
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, r := range rounds {
		for _, ir := range r.instances {
			switch ir.inst.State {
			case jack.InstanceExited, jack.InstanceStopping:
				continue
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				st, err := m.cfg.Stats.Stats(ctx, ir.inst.ID)
				if err != nil {
					if jack.ErrorCode(err) != jack.ENOTFOUND && ctx.Err() == nil {
						m.logger.Warn("metrics: sample instance", "env", r.env.Ref(), "instance", ir.inst.Name, "err", err)
					}
					return
				}
				s := &sample{stats: st}
				p := prev[ir.inst.ID]
				if p != nil && p.stats != nil {
					if dt := st.Time.Sub(p.stats.Time).Seconds(); dt > 0 && st.CPUSeconds >= p.stats.CPUSeconds {
						s.cpuPercent = (st.CPUSeconds - p.stats.CPUSeconds) / dt * 100
						s.hasRate = true
					}
					ir.moved = counters{
						netRx: sub(st.NetRxBytes, p.stats.NetRxBytes), netTx: sub(st.NetTxBytes, p.stats.NetTxBytes),
						blockRead: sub(st.BlockReadBytes, p.stats.BlockReadBytes), blockWrite: sub(st.BlockWriteBytes, p.stats.BlockWriteBytes),
					}
				}
				ir.sample = s
				mu.Lock()
				out[ir.inst.ID] = s
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
}

// traffic reads the router's counters; nil when there is no router or it
// does not answer (said once in the log, until it answers again).
func (m *Monitor) traffic(ctx context.Context) *jack.TrafficSnapshot {
	if m.cfg.Router == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	snap, err := m.cfg.Router.Traffic(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		if !m.routerDown && ctx.Err() == nil {
			m.logger.Warn("metrics: read the router's counters", "err", err)
		}
		m.routerDown = true
		return nil
	}
	m.routerDown = false
	return snap
}

// deploying returns each environment's deployment that has not ended.
func (m *Monitor) deploying(ctx context.Context) (map[int64]*jack.Deployment, error) {
	list, err := m.cfg.Store.ListDeployments(ctx, 0, 1000, jack.DeploymentPending, jack.DeploymentRunning)
	out := map[int64]*jack.Deployment{}
	for _, d := range list {
		out[d.EnvID] = d
	}
	return out, err
}

// evaluate judges one environment with the monitor's latest numbers.
func (m *Monitor) evaluate(ctx context.Context, env *jack.Environment, instances []*jack.Instance, deploying *jack.Deployment, now time.Time) *jack.Health {
	expected := m.expectedCounts(ctx, env)
	m.mu.Lock()
	in := &envInput{
		env: env, expected: expected, deploying: deploying, instances: instances,
		samples: m.samples, traffic: m.windows[env.Ref()], sampled: m.sampled, limits: m.cfg.Thresholds,
	}
	h := evaluate(in, now)
	if rec := m.health[env.ID]; rec != nil && rec.state == h.State {
		h.Since = rec.since
	} else {
		h.Since = now
	}
	m.mu.Unlock()
	return h
}

// record remembers an environment's health and reports a change.
func (m *Monitor) record(ctx context.Context, env *jack.Environment, h *jack.Health, now time.Time) {
	m.mu.Lock()
	rec := m.health[env.ID]
	first := rec == nil
	if first {
		rec = &healthRecord{state: h.State, since: now, notified: h.State}
		m.health[env.ID] = rec
	}
	if rec.state != h.State {
		rec.state, rec.since = h.State, now
	}
	from := rec.notified
	tell := !first && h.State != jack.HealthPending && h.State != rec.notified
	if tell {
		rec.notified = h.State
	}
	m.mu.Unlock()
	if !tell {
		return
	}
	msg := fmt.Sprintf("Health is %s (was %s)", h.State, from)
	if len(h.Causes) > 0 {
		msg += ": " + strings.Join(h.Causes, "; ")
	}
	if err := m.cfg.Store.AddEvent(ctx, &jack.Event{EnvID: env.ID, Time: now, Kind: "health", Message: msg}); err != nil && ctx.Err() == nil {
		m.logger.Warn("metrics: store health event", "env", env.Ref(), "err", err)
	}
	m.logger.Info("health changed", "env", env.Ref(), "from", from, "to", h.State, "causes", strings.Join(h.Causes, "; "))
	if m.cfg.OnHealthChange != nil {
		m.cfg.OnHealthChange(env, from, h)
	}
}

// expectedCounts returns how many instances of each process the serving
// release asks for, from its version's manifest and its scale.
func (m *Monitor) expectedCounts(ctx context.Context, env *jack.Environment) map[string]int {
	if env.Release == 0 {
		return nil
	}
	key := fmt.Sprintf("%d/%d", env.ID, env.Release)
	m.mu.Lock()
	counts, ok := m.expected[key]
	m.mu.Unlock()
	if ok {
		return counts
	}
	rel, err := m.cfg.Store.FindRelease(ctx, env.ID, env.Release)
	if err != nil {
		return nil
	}
	v, err := m.cfg.Store.FindVersionByID(ctx, rel.VersionID)
	if err != nil {
		return nil
	}
	counts = map[string]int{}
	for name, p := range v.Manifest.Processes {
		counts[name] = p.Instances
		if n, ok := rel.Scale[name]; ok {
			counts[name] = n
		}
	}
	m.mu.Lock()
	if len(m.expected) > 10000 {
		clear(m.expected)
	}
	m.expected[key] = counts
	m.mu.Unlock()
	return counts
}

// Health returns an environment's health judged now, on its instances as
// they are and the latest sample and traffic.
func (m *Monitor) Health(ctx context.Context, app, envName string) (*jack.Health, error) {
	env, err := m.cfg.Store.FindEnv(ctx, app, envName)
	if err != nil {
		return nil, err
	}
	instances, err := m.cfg.Orchestrator.Instances(ctx, app, envName)
	if err != nil {
		return nil, err
	}
	running, err := m.cfg.Store.ListDeployments(ctx, env.ID, 1, jack.DeploymentPending, jack.DeploymentRunning)
	if err != nil {
		return nil, err
	}
	var deploying *jack.Deployment
	if len(running) > 0 {
		deploying = running[0]
	}
	return m.evaluate(ctx, env, instances, deploying, m.now()), nil
}

// Rollups returns an environment's minute rollups from since on; process
// "" for the environment's own, "*" for every process's.
func (m *Monitor) Rollups(ctx context.Context, app, envName, process string, since time.Time) ([]*jack.Rollup, error) {
	env, err := m.cfg.Store.FindEnv(ctx, app, envName)
	if err != nil {
		return nil, err
	}
	return m.cfg.Store.ListRollups(ctx, env.ID, process, since)
}

func instancesOf(r *envRound) []*jack.Instance {
	out := make([]*jack.Instance, len(r.instances))
	for i, ir := range r.instances {
		out[i] = ir.inst
	}
	return out
}

func snapBounds(s *jack.TrafficSnapshot) []float64 {
	if s == nil {
		return nil
	}
	return s.Bounds
}
