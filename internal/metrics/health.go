package metrics

import (
	"fmt"
	"sort"
	"strings"
	"time"

	jack "github.com/jack-paas/jack"
)

// envInput is everything the health of one environment is judged on.
type envInput struct {
	env *jack.Environment
	// expected is how many instances of each process the serving release
	// asks for; nil when unknown.
	expected  map[string]int
	deploying *jack.Deployment // a deployment that has not ended, or nil
	instances []*jack.Instance
	samples   map[string]*sample // by container ID
	traffic   *window            // nil without router data
	sampled   bool               // a sampling round has run since the start
	limits    Thresholds
}

// cause is one reason for a state, with how bad it is.
type cause struct {
	rank int // jack.HealthRank
	text string
}

// evaluate judges an environment by the rules of docs/health.md.
func evaluate(in *envInput, now time.Time) *jack.Health {
	h := &jack.Health{Env: in.env.Ref(), Evaluated: now, Causes: []string{}}
	h.Instances = instanceViews(in)
	if w := in.traffic; w != nil {
		h.Requests, h.ErrorShare, h.P95 = w.total.requests, w.total.errorShare(), w.total.p95
	}
	if in.env.Release == 0 && in.deploying == nil {
		h.State = jack.HealthUnknown
		h.Causes = append(h.Causes, "nothing deployed yet")
		return h
	}
	var causes []cause
	causes = append(causes, instanceCauses(in)...)
	causes = append(causes, trafficCauses(in)...)
	causes = append(causes, resourceCauses(in)...)
	sort.SliceStable(causes, func(a, b int) bool { return causes[a].rank > causes[b].rank })
	state := jack.HealthOK
	for _, c := range causes {
		if c.rank > jack.HealthRank(state) {
			state = rankState(c.rank)
		}
		h.Causes = append(h.Causes, c.text)
	}
	switch {
	case in.deploying != nil:
		d := in.deploying
		h.Causes = append([]string{fmt.Sprintf("deployment %d (%s of release %d) is running", d.ID, d.Kind, d.ReleaseNumber)}, h.Causes...)
		state = jack.HealthPending
	case !in.sampled && state == jack.HealthOK:
		state = jack.HealthUnknown
		h.Causes = append(h.Causes, "no data yet: the first sample is on its way")
	}
	h.State = state
	return h
}

func rankState(rank int) string {
	switch rank {
	case 1:
		return jack.HealthWarning
	case 2:
		return jack.HealthDegraded
	case 3:
		return jack.HealthSevere
	}
	return jack.HealthOK
}

// instanceCauses: no web instance healthy, instances failing health
// checks, instances missing, instances restarting repeatedly.
func instanceCauses(in *envInput) []cause {
	var out []cause
	byProcess := map[string][]*jack.Instance{}
	for _, i := range in.instances {
		byProcess[i.Process] = append(byProcess[i.Process], i)
	}
	processes := map[string]bool{}
	for p := range byProcess {
		processes[p] = true
	}
	for p := range in.expected {
		processes[p] = true
	}
	for _, p := range sortedKeys(processes) {
		list := byProcess[p]
		want, known := in.expected[p]
		if !known {
			want = len(list)
		}
		var healthy, failing, running int
		var failErr string
		for _, i := range list {
			switch i.State {
			case jack.InstanceHealthy:
				healthy++
				running++
			case jack.InstanceUnhealthy:
				failing++
				running++
				if failErr == "" {
					failErr = i.LastCheckError
				}
			case jack.InstanceStarting:
				running++
			}
		}
		total := max(want, running)
		if p == jack.DefaultProcessName && in.env.Tier == jack.TierWeb && want > 0 && healthy == 0 && in.deploying == nil {
			out = append(out, cause{3, fmt.Sprintf("no web instance is healthy (0 of %d)", want)})
		} else if failing > 0 {
			rank := 1
			if failing*2 >= total {
				rank = 2
			}
			out = append(out, cause{rank, fmt.Sprintf("%d of %d %s instances failing health checks%s", failing, total, p, paren(failErr))})
		}
		if missing := want - running; missing > 0 && in.deploying == nil {
			rank := 1
			if missing*2 >= want {
				rank = 2
			}
			if !(p == jack.DefaultProcessName && in.env.Tier == jack.TierWeb && healthy == 0) {
				out = append(out, cause{rank, fmt.Sprintf("%d of %d %s instances not running", missing, want, p)})
			}
		}
	}
	for _, i := range in.instances {
		switch n := i.RecentRestarts; {
		case n >= crashLoopRestarts:
			out = append(out, cause{2, fmt.Sprintf("%s restarted %d times in the last 10 minutes (crash loop)%s", i.Name, n, lastExit(i))})
		case n > 0:
			out = append(out, cause{1, fmt.Sprintf("%s restarted %s in the last 10 minutes%s", i.Name, times(n), lastExit(i))})
		}
	}
	return out
}

// trafficCauses: the share of 5xx answers and the p95 latency over the
// last minute.
func trafficCauses(in *envInput) []cause {
	w := in.traffic
	if w == nil || w.total.requests == 0 {
		return nil
	}
	var out []cause
	share := w.total.errorShare()
	rank := 0
	switch {
	case share >= errorSevere:
		rank = 3
	case share >= errorDegraded:
		rank = 2
	case share >= errorWarning:
		rank = 1
	}
	if rank > 0 {
		out = append(out, cause{rank, fmt.Sprintf("%s of requests in the last minute answered 5xx (%d of %d)",
			percent(share), w.total.errors, w.total.requests)})
	}
	if limit := in.limits.P95.Seconds(); limit > 0 && w.total.p95 > limit {
		rank := 1
		if w.total.p95 > 2*limit {
			rank = 2
		}
		out = append(out, cause{rank, fmt.Sprintf("p95 latency %s over the last minute, above %s",
			seconds(w.total.p95), in.limits.P95)})
	}
	return out
}

// resourceCauses: instances near their CPU or memory limit.
func resourceCauses(in *envInput) []cause {
	var out []cause
	for _, i := range in.instances {
		s := in.samples[i.ID]
		if s == nil || s.stats == nil {
			continue
		}
		if lim := s.stats.MemoryLimit; lim > 0 && in.limits.Memory > 0 {
			share := float64(s.stats.MemoryWorkingSet) / float64(lim)
			if share >= in.limits.Memory {
				out = append(out, cause{1, fmt.Sprintf("%s uses %s of its %s memory limit", i.Name, percent(share), bytesText(lim))})
			}
		}
		if lim := s.stats.CPULimit; lim > 0 && s.hasRate && in.limits.CPU > 0 {
			share := s.cpuPercent / 100 / lim
			if share >= in.limits.CPU {
				out = append(out, cause{1, fmt.Sprintf("%s uses %s of its %g CPU limit", i.Name, percent(share), lim)})
			}
		}
	}
	return out
}

// instanceViews joins instances with their latest sample and traffic.
func instanceViews(in *envInput) []*jack.InstanceHealth {
	out := make([]*jack.InstanceHealth, 0, len(in.instances))
	for _, i := range in.instances {
		v := &jack.InstanceHealth{
			ID: i.ID, Name: i.Name, Process: i.Process, State: i.State, Restarts: i.RestartsTotal,
			LastCheck: i.LastCheck, CheckLatency: i.CheckLatency, CheckError: i.LastCheckError, CheckFailures: i.CheckFailures,
		}
		if s := in.samples[i.ID]; s != nil && s.stats != nil {
			v.CPUPercent, v.CPULimit = s.cpuPercent, s.stats.CPULimit
			v.MemoryWorking, v.MemoryLimit, v.SampledAt = s.stats.MemoryWorkingSet, s.stats.MemoryLimit, s.stats.Time
		}
		if w := in.traffic; w != nil {
			if t, ok := w.byInstance[i.ID]; ok {
				v.Requests, v.ErrorShare, v.P95 = t.requests, t.errorShare(), t.p95
			}
		}
		out = append(out, v)
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Process != out[b].Process {
			return out[a].Process < out[b].Process
		}
		return out[a].Name < out[b].Name
	})
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func lastExit(i *jack.Instance) string {
	if i.LastExit == "" {
		return ""
	}
	return "; the last one " + i.LastExit
}

func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return fmt.Sprintf("%d times", n)
}

// percent writes a share as "6.2%", with one decimal below 10%.
func percent(share float64) string {
	p := share * 100
	if p < 10 {
		return strings.TrimSuffix(fmt.Sprintf("%.1f", p), ".0") + "%"
	}
	return fmt.Sprintf("%.0f%%", p)
}

func seconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond).String()
}

// bytesText writes a size in binary units: "64 MiB".
func bytesText(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	s := fmt.Sprintf("%.1f", v)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + string("KMGTPE"[exp]) + "iB"
}
