package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/metrics"
	"github.com/jack-paas/jack/internal/notify"
)

// startNotifier starts the webhook sender, before the orchestrator that
// tells it of deployments.
func (m *Main) startNotifier() {
	m.notifier = notify.New(notify.Config{Store: m.db, Logger: m.logger.With("part", "webhooks")})
	m.notifier.Start()
}

// startMonitor starts sampling instances and the router, judging health and
// pushing to StatsD.
func (m *Main) startMonitor() error {
	var sd *metrics.StatsD
	if m.cfg.StatsD != "" {
		var err error
		if sd, err = metrics.NewStatsD(m.cfg.StatsD, ""); err != nil {
			return err
		}
		m.statsd = sd
	}
	m.runtime.StatsSource = m.cfg.StatsSource
	var traffic jack.RouterStats
	if rs, ok := any(m.router).(jack.RouterStats); ok {
		traffic = rs
	}
	m.monitor = metrics.New(metrics.Config{
		Store: m.db, Orchestrator: m.orch, Stats: m.runtime, Router: traffic,
		Interval: m.cfg.MetricsInterval, Thresholds: m.cfg.Thresholds,
		OnHealthChange: m.notifier.HealthChanged, StatsD: sd,
		Logger: m.logger.With("part", "metrics"),
	})
	m.monitor.Start()
	return nil
}

// serveMetrics serves /metrics without a token on MetricsAddr, when set:
// for a Prometheus that scrapes from a private network.
func (m *Main) serveMetrics() error {
	if m.cfg.MetricsAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", m.cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("listen for /metrics on %s: %w", m.cfg.MetricsAddr, err)
	}
	m.metricsLn = ln
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.monitor.Handler())
	m.metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := m.metricsSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.logger.Error("metrics server", "err", err)
		}
	}()
	m.logger.Info("serving /metrics without a token", "addr", ln.Addr().String())
	return nil
}

// MetricsURL returns the URL of the token-free /metrics, "" without one.
func (m *Main) MetricsURL() string {
	if m.metricsLn == nil {
		return ""
	}
	return "http://" + m.metricsLn.Addr().String() + "/metrics"
}

// closeMetrics stops the metrics server, the monitor and the notifier.
func (m *Main) closeMetrics() {
	if m.metricsSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		m.metricsSrv.Shutdown(ctx)
		cancel()
	}
	if m.monitor != nil {
		m.monitor.Close()
	}
	if m.notifier != nil {
		m.notifier.Close()
	}
	if m.statsd != nil {
		m.statsd.Close()
	}
}
