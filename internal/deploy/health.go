package deploy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	jack "github.com/jack-paas/jack"
)

// settleTime is how long a process without an HTTP health check must keep
// running after it starts to count as healthy: long enough to catch a
// command that is not found or a crash on boot.
const settleTime = time.Second

// First probes come fast, so that a container ready in 30 ms is noticed in
// about that time; the gap then grows to maxStartupProbeGap.
const (
	firstProbeGap      = 5 * time.Millisecond
	maxStartupProbeGap = 250 * time.Millisecond
)

// healthClient probes instances. It keeps no connections: a probe must see
// a fresh instance the way the router's first connection would.
var healthClient = &http.Client{
	Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// probe makes one health check: a GET of the path that passes on any
// status below 500.
func probe(ctx context.Context, addr string, hc *jack.HealthCheck) error {
	ctx, cancel := context.WithTimeout(ctx, hc.Timeout.D())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+hc.Path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "jack-health/1")
	resp, err := healthClient.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		return fmt.Errorf("GET %s answered %d", hc.Path, resp.StatusCode)
	}
	return nil
}

// errDied is returned when an instance stops before it is healthy.
type errDied struct {
	name string
	code int
	oom  bool
}

func (e *errDied) Error() string {
	if e.oom {
		return fmt.Sprintf("%s was killed for using more memory than its limit before it became healthy", e.name)
	}
	return fmt.Sprintf("%s exited with code %d before it became healthy", e.name, e.code)
}

// waitHealthy returns once the instance passes its health check, or the
// reason it never will: it died, or ctx ended (the deploy's timeout).
func (o *Orchestrator) waitHealthy(ctx context.Context, in *instance, p *jack.Process) error {
	name := in.c.Name()
	if !p.HTTPChecked(in.c.Process) {
		select {
		case <-in.dead:
			return o.diedErr(in)
		case <-time.After(settleTime):
			o.checkRunning(ctx, in)
			select {
			case <-in.dead:
				return o.diedErr(in)
			default:
			}
			return nil
		case <-ctx.Done():
			return fmt.Errorf("%s did not start in time", name)
		}
	}
	gap := firstProbeGap
	lastLook := time.Now()
	for {
		err := probe(ctx, in.c.Address, p.Health)
		o.mu.Lock()
		in.lastCheck = o.now()
		in.lastErr = errText(err)
		o.mu.Unlock()
		if err == nil {
			return nil
		}
		select {
		case <-in.dead:
			return o.diedErr(in)
		case <-ctx.Done():
			return fmt.Errorf("%s did not pass its health check (GET %s) in time; last check: %v", name, p.Health.Path, err)
		case <-time.After(gap):
		}
		gap = min(gap*3/2+time.Millisecond, maxStartupProbeGap, p.Health.Interval.D())
		if time.Since(lastLook) > lookInterval {
			lastLook = time.Now()
			o.checkRunning(ctx, in)
		}
	}
}

// lookInterval is how often a health wait asks the runtime whether the
// instance still runs, in case the engine's "die" event came before the
// instance was known or was lost.
const lookInterval = 500 * time.Millisecond

// checkRunning marks the instance dead if the runtime says it is not running.
func (o *Orchestrator) checkRunning(ctx context.Context, in *instance) {
	c, err := o.runtime.Inspect(ctx, in.c.ID)
	if jack.ErrorCode(err) == jack.ENOTFOUND {
		in.markDead(-1, false)
	} else if err == nil && !c.Running {
		in.markDead(c.ExitCode, c.OOMKilled)
	}
}

func (o *Orchestrator) diedErr(in *instance) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return &errDied{name: in.c.Name(), code: in.exitCode, oom: in.oom}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
