package metrics

import (
	"context"
	"net/http"
	"sort"
	"time"

	jack "github.com/jack-paas/jack"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Label names: cAdvisor's metrics of an instance carry all four; the
// environment's carry app and env.
var (
	instanceLabels = []string{"app", "env", "process", "instance"}
	envLabels      = []string{"app", "env"}
	trafficLabels  = []string{"app", "env", "instance"}
)

func desc(name, help string, labels []string, extra ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, append(append([]string(nil), labels...), extra...), nil)
}

// The metrics /metrics exposes. Names follow cAdvisor where it has one, so
// that dashboards made for Kubernetes or the Datadog agent work.
var (
	cpuSeconds   = desc("container_cpu_usage_seconds_total", "CPU time the instance used, all cores together.", instanceLabels)
	memUsage     = desc("container_memory_usage_bytes", "Memory the instance uses, page cache included.", instanceLabels)
	memWorking   = desc("container_memory_working_set_bytes", "Memory the instance uses less reclaimable page cache: what counts against its limit.", instanceLabels)
	memLimit     = desc("container_spec_memory_limit_bytes", "The instance's memory limit; absent when unlimited.", instanceLabels)
	netRx        = desc("container_network_receive_bytes_total", "Bytes the instance received.", instanceLabels)
	netTx        = desc("container_network_transmit_bytes_total", "Bytes the instance sent.", instanceLabels)
	fsReads      = desc("container_fs_reads_bytes_total", "Bytes the instance read from block devices.", instanceLabels)
	fsWrites     = desc("container_fs_writes_bytes_total", "Bytes the instance wrote to block devices.", instanceLabels)
	startTime    = desc("container_start_time_seconds", "When the instance started, in Unix seconds.", instanceLabels)
	cpuPercent   = desc("jack_instance_cpu_percent", "CPU use over the last sample interval, in percent of one core.", instanceLabels)
	cpuLimit     = desc("jack_instance_cpu_limit_cores", "The instance's CPU limit in cores; absent when unlimited.", instanceLabels)
	restarts     = desc("jack_instance_restarts_total", "Times the instance's slot was replaced after its instance died, since jack server started.", instanceLabels)
	healthy      = desc("jack_instance_healthy", "1 when the instance passes its health check, else 0.", instanceLabels)
	checkLatency = desc("jack_instance_health_check_duration_seconds", "How long the instance's last health check took.", instanceLabels)
	requests     = desc("jack_http_requests_total", "Requests the router answered, by status class; instance is empty for answers of the router itself.", trafficLabels, "code")
	duration     = desc("jack_http_request_duration_seconds", "Time from the router receiving a request to the end of its answer.", trafficLabels)
	bytesIn      = desc("jack_http_request_bytes_total", "Bytes of request bodies the router received.", trafficLabels)
	bytesOut     = desc("jack_http_response_bytes_total", "Bytes of response bodies the router sent.", trafficLabels)
	inFlight     = desc("jack_http_requests_in_flight", "Requests being served now.", trafficLabels)
	deployments  = desc("jack_deployments_total", "Deployments of the environment, by how they ended (or running).", envLabels, "result")
	envHealth    = desc("jack_environment_health", "1 for the environment's health state, 0 for the others.", envLabels, "state")
)

// Handler returns the /metrics handler in the Prometheus text format.
func (m *Monitor) Handler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(&collector{m: m})
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// collector turns the monitor's latest round, the router's counters and
// the store's deployment counts into metrics at each scrape.
type collector struct{ m *Monitor }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{cpuSeconds, memUsage, memWorking, memLimit, netRx, netTx, fsReads, fsWrites,
		startTime, cpuPercent, cpuLimit, restarts, healthy, checkLatency, requests, duration, bytesIn, bytesOut,
		inFlight, deployments, envHealth} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m := c.m
	m.mu.Lock()
	rounds := m.envs
	m.mu.Unlock()
	snap := m.traffic(ctx)
	if snap == nil {
		m.mu.Lock()
		snap = m.hist.latest()
		m.mu.Unlock()
	}
	traffic := map[string]*jack.EnvTraffic{}
	if snap != nil {
		for _, e := range snap.Envs {
			traffic[e.Env] = e
		}
	}
	for _, r := range rounds {
		collectInstances(ch, r)
		if r.health != nil {
			for _, s := range jack.HealthStates {
				v := 0.0
				if s == r.health.State {
					v = 1
				}
				ch <- prometheus.MustNewConstMetric(envHealth, prometheus.GaugeValue, v, r.env.App, r.env.Name, s)
			}
		}
		if e := traffic[r.env.Ref()]; e != nil {
			collectTraffic(ch, r, e, snap.Bounds)
		}
	}
	c.collectDeployments(ctx, ch, rounds)
}

// namesOf returns the name each instance is exposed under. While an
// instance is being replaced two share a name; the newer one has it.
func namesOf(r *envRound) map[string]string {
	newest := map[string]*jack.Instance{}
	for _, ir := range r.instances {
		if cur := newest[ir.inst.Name]; cur == nil || ir.inst.StartedAt.After(cur.StartedAt) {
			newest[ir.inst.Name] = ir.inst
		}
	}
	out := map[string]string{}
	for name, in := range newest {
		out[in.ID] = name
	}
	return out
}

func collectInstances(ch chan<- prometheus.Metric, r *envRound) {
	names := namesOf(r)
	for _, ir := range r.instances {
		in := ir.inst
		if names[in.ID] == "" {
			continue
		}
		l := []string{r.env.App, r.env.Name, in.Process, in.Name}
		gauge := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
		}
		counter := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, l...)
		}
		h := 0.0
		if in.State == jack.InstanceHealthy {
			h = 1
		}
		gauge(healthy, h)
		counter(restarts, float64(in.RestartsTotal))
		if in.CheckLatency > 0 {
			gauge(checkLatency, in.CheckLatency.Seconds())
		}
		if !in.StartedAt.IsZero() {
			gauge(startTime, float64(in.StartedAt.UnixNano())/1e9)
		}
		if ir.sample == nil {
			continue
		}
		st := ir.sample.stats
		counter(cpuSeconds, st.CPUSeconds)
		gauge(memUsage, float64(st.MemoryUsage))
		gauge(memWorking, float64(st.MemoryWorkingSet))
		if st.MemoryLimit > 0 {
			gauge(memLimit, float64(st.MemoryLimit))
		}
		if st.CPULimit > 0 {
			gauge(cpuLimit, st.CPULimit)
		}
		if ir.sample.hasRate {
			gauge(cpuPercent, ir.sample.cpuPercent)
		}
		counter(netRx, float64(st.NetRxBytes))
		counter(netTx, float64(st.NetTxBytes))
		counter(fsReads, float64(st.BlockReadBytes))
		counter(fsWrites, float64(st.BlockWriteBytes))
	}
}

// collectTraffic exposes the router's counters per instance, by name, and
// what no current instance answered (the router itself, instances gone)
// under instance="", so that the sum over instances is the environment's.
func collectTraffic(ch chan<- prometheus.Metric, r *envRound, e *jack.EnvTraffic, bounds []float64) {
	names := namesOf(r)
	rest := e.Total
	rest.Requests = map[string]uint64{}
	for k, v := range e.Total.Requests {
		rest.Requests[k] = v
	}
	rest.Buckets = append([]uint64(nil), e.Total.Buckets...)
	ids := make([]string, 0, len(e.Instances))
	for id := range e.Instances {
		if names[id] != "" {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		st := e.Instances[id]
		emitTraffic(ch, r.env, names[id], st, bounds)
		for k, v := range st.Requests {
			rest.Requests[k] = sub(rest.Requests[k], v)
		}
		for i := range rest.Buckets {
			if i < len(st.Buckets) {
				rest.Buckets[i] = sub(rest.Buckets[i], st.Buckets[i])
			}
		}
		rest.Count, rest.Sum = sub(rest.Count, st.Count), max(rest.Sum-st.Sum, 0)
		rest.BytesIn, rest.BytesOut = sub(rest.BytesIn, st.BytesIn), sub(rest.BytesOut, st.BytesOut)
		rest.InFlight = max(rest.InFlight-st.InFlight, 0)
	}
	emitTraffic(ch, r.env, "", rest, bounds)
}

func emitTraffic(ch chan<- prometheus.Metric, env *jack.Environment, instance string, st jack.TrafficStats, bounds []float64) {
	l := []string{env.App, env.Name, instance}
	for _, class := range []string{"1xx", "2xx", "3xx", "4xx", "5xx"} {
		if n, ok := st.Requests[class]; ok {
			ch <- prometheus.MustNewConstMetric(requests, prometheus.CounterValue, float64(n), append(l, class)...)
		}
	}
	buckets := map[float64]uint64{}
	for i, b := range bounds {
		if i < len(st.Buckets) {
			buckets[b] = st.Buckets[i]
		}
	}
	ch <- prometheus.MustNewConstHistogram(duration, st.Count, st.Sum, buckets, l...)
	ch <- prometheus.MustNewConstMetric(bytesIn, prometheus.CounterValue, float64(st.BytesIn), l...)
	ch <- prometheus.MustNewConstMetric(bytesOut, prometheus.CounterValue, float64(st.BytesOut), l...)
	ch <- prometheus.MustNewConstMetric(inFlight, prometheus.GaugeValue, float64(st.InFlight), l...)
}

// collectDeployments exposes the store's count of deployments by result.
func (c *collector) collectDeployments(ctx context.Context, ch chan<- prometheus.Metric, rounds []*envRound) {
	counts, err := c.m.cfg.Store.CountDeployments(ctx)
	if err != nil {
		c.m.logger.Warn("metrics: count deployments", "err", err)
		return
	}
	byID := map[int64]*jack.Environment{}
	for _, r := range rounds {
		byID[r.env.ID] = r.env
	}
	for _, n := range counts {
		env := byID[n.EnvID]
		if env == nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(deployments, prometheus.CounterValue, float64(n.Count), env.App, env.Name, n.State)
	}
}
