package server

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/jack-paas/jack/internal/logs"
)

// logParts are the daemon's parts that collect, keep and forward logs.
type logParts struct {
	store     *logs.Store
	collector *logs.Collector
	events    *logs.Events
	access    *logs.AccessLog
	drains    *logs.Drains
	service   *logs.Service
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// AccessLogFile is the router's access log in the data folder; the router
// renames it to AccessLogFile.1 when it is large.
const AccessLogFile = "router-access.ndjson"

// startLogs opens the logs in DATA/logs and starts collecting every
// container's output, the platform's events and the router's access log,
// and forwarding to drains. It runs before the orchestrator adopts (and
// may remove) containers, and makes the runtime wait for each container's
// last lines before removing it.
func (m *Main) startLogs(ctx context.Context) error {
	logger := m.logger.With("part", "logs")
	store, err := logs.OpenStore(filepath.Join(m.cfg.DataDir, "logs"), logger)
	if err != nil {
		return fmt.Errorf("open logs: %w", err)
	}
	p := &logParts{store: store}
	m.logs = p
	p.events = logs.NewEvents(m.db, store, logger)
	p.drains = logs.NewDrains(store, m.db, logger)
	p.drains.OnEvent = p.events.Changed
	p.service = logs.NewService(store, m.db, p.drains)
	if err := p.service.LoadSettings(ctx); err != nil {
		return fmt.Errorf("load log settings: %w", err)
	}
	p.collector = logs.NewCollector(m.runtime, store, logger)
	if err := p.collector.Start(ctx); err != nil {
		return fmt.Errorf("start log collector: %w", err)
	}
	m.runtime.BeforeRemove = p.collector.Finish
	p.access = logs.NewAccessLog(filepath.Join(m.cfg.DataDir, AccessLogFile),
		filepath.Join(m.cfg.DataDir, "logs", "router-access.cursor"), store, logger)
	p.access.Instance = p.collector.Instance
	if err := p.drains.Start(ctx); err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.wg.Add(2)
	go func() { defer p.wg.Done(); p.events.Run(runCtx) }()
	go func() { defer p.wg.Done(); p.access.Run(runCtx) }()
	return nil
}

// close stops collecting and forwarding, saving every cursor, and closes
// the logs.
func (p *logParts) close() {
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
	if p.collector != nil {
		p.collector.Close()
	}
	if p.drains != nil {
		p.drains.Close()
	}
	p.store.Close()
}
