package logs

import (
	"context"
	"log/slog"
	"sync"
	"time"

	jack "github.com/jack-paas/jack"
)

// Collector reads the output of every container of the installation (the
// source lists them) into the logs of their environments: one follower per
// container, each resuming at its cursor, so that restarts of the daemon,
// the engine or the container lose no line and store none twice.
type Collector struct {
	source jack.LogSource
	store  *Store
	logger *slog.Logger

	// ResyncInterval is how often the containers are listed again, as a
	// safety net behind the engine's events; default 30s.
	ResyncInterval time.Duration
	// FinishTimeout bounds how long Finish waits; default 10s.
	FinishTimeout time.Duration
	// StallCheck is how long a container's stream may stay quiet before
	// the engine is asked whether it holds newer lines; default 1s.
	StallCheck time.Duration
	// CatchUpLag is how far behind a container a stream whose follow is
	// fragile (jack.FragileFollow) may fall before the collector reads it
	// without following until it has caught up; default 2s.
	CatchUpLag time.Duration

	mu        sync.Mutex
	followers map[string]*follower // by container ID
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// NewCollector returns a collector of the source's containers into store;
// Start starts it.
func NewCollector(source jack.LogSource, store *Store, logger *slog.Logger) *Collector {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Collector{
		source: source, store: store, logger: logger,
		ResyncInterval: 30 * time.Second, FinishTimeout: 10 * time.Second, StallCheck: time.Second, CatchUpLag: 2 * time.Second,
		followers: map[string]*follower{}, ctx: ctx, cancel: cancel,
	}
}

// Start subscribes to the engine's events, starts following every
// container listed, and keeps following those that start later. It returns
// once every container has its follower, so that a caller that removes
// containers after Start (and calls Finish first) loses none of their lines.
func (c *Collector) Start(ctx context.Context) error {
	events := c.source.WatchLogContainers(c.ctx)
	if err := c.resync(ctx); err != nil {
		c.logger.Warn("list containers to collect their logs; trying again in the background", "err", err)
	}
	c.wg.Add(1)
	go c.watch(events)
	return nil
}

// watch follows containers as they start, and lists them all again when
// events may have been missed and every ResyncInterval.
func (c *Collector) watch(events <-chan string) {
	defer c.wg.Done()
	tick := time.NewTicker(c.ResyncInterval)
	defer tick.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case id, ok := <-events:
			if !ok {
				return
			}
			if id == "" {
				c.resyncLogged()
				continue
			}
			c.started(id)
		case <-tick.C:
			c.resyncLogged()
		}
	}
}

func (c *Collector) resyncLogged() {
	if err := c.resync(c.ctx); err != nil && c.ctx.Err() == nil {
		c.logger.Warn("list containers to collect their logs", "err", err)
	}
}

// resync lists the containers, follows the new ones and wakes the others,
// so that a follower waiting on a container that restarted or went away
// finds out.
func (c *Collector) resync(ctx context.Context) error {
	list, err := c.source.LogContainers(ctx)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, info := range list {
		seen[info.ID] = true
		if f := c.follow(info); f != nil && info.Running {
			f.wakeUp()
		}
	}
	c.mu.Lock()
	var gone []*follower
	following := map[string]bool{}
	for id, f := range c.followers {
		following[f.source] = true
		if !seen[id] {
			gone = append(gone, f)
		}
	}
	c.mu.Unlock()
	for _, f := range gone {
		f.wakeUp() // it finds the container gone and ends
	}
	c.pruneCursors(following)
	return nil
}

// pruneCursors forgets the cursors of containers that went while the
// daemon was down: a container's cursor is its short ID, and no follower
// reads it. (A follower exists before anything of its container is stored,
// so a container created since the list is never taken for gone.)
func (c *Collector) pruneCursors(following map[string]bool) {
	for _, l := range c.store.all() {
		for _, source := range l.sources() {
			if c.ctx.Err() != nil {
				return
			}
			if len(source) == 12 && isHex(source) && !following[source] {
				c.mu.Lock()
				_, started := c.followingSource(source)
				c.mu.Unlock()
				if !started {
					l.forget(source)
				}
			}
		}
	}
}

// followingSource reports whether a follower reads the container with
// this short ID. The caller holds c.mu.
func (c *Collector) followingSource(source string) (*follower, bool) {
	for _, f := range c.followers {
		if f.source == source {
			return f, true
		}
	}
	return nil, false
}

// started follows a container that just started, or wakes its follower.
func (c *Collector) started(id string) {
	c.mu.Lock()
	f := c.followers[id]
	c.mu.Unlock()
	if f != nil {
		f.wakeUp()
		return
	}
	info, err := c.source.InspectLogContainer(c.ctx, id)
	if err != nil {
		if jack.ErrorCode(err) != jack.ENOTFOUND {
			c.logger.Warn("inspect a started container to collect its logs", "container", jack.ShortID(id), "err", err)
		}
		return
	}
	c.follow(info)
}

// follow returns the follower of a container, starting one if needed; nil
// if the container's environment can't have a log.
func (c *Collector) follow(info *jack.LogContainer) *follower {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f := c.followers[info.ID]; f != nil {
		return f
	}
	if c.ctx.Err() != nil {
		return nil
	}
	l, err := c.store.Env(info.App, info.Env)
	if err != nil {
		c.logger.Warn("container of an environment whose log can't open", "container", jack.ShortID(info.ID), "app", info.App, "env", info.Env, "err", err)
		return nil
	}
	f := newFollower(c, info, l)
	c.followers[info.ID] = f
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f.run(c.ctx)
		if c.ctx.Err() != nil {
			return // stopping: it stays known, so that its cursor is kept
		}
		c.mu.Lock()
		if c.followers[info.ID] == f {
			delete(c.followers, info.ID)
		}
		c.mu.Unlock()
	}()
	return f
}

// Finish returns once the collector has read every line of a stopped
// container, or after FinishTimeout or when ctx ends. Call it before
// removing a container, so that its last lines are kept.
func (c *Collector) Finish(ctx context.Context, id string) {
	c.mu.Lock()
	f := c.followers[id]
	c.mu.Unlock()
	if f == nil {
		info, err := c.source.InspectLogContainer(ctx, id)
		if err != nil {
			return // not one whose output Jack collects, or gone
		}
		if f = c.follow(info); f == nil {
			return
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.FinishTimeout)
	defer cancel()
	if !f.finish(ctx) {
		c.logger.Warn("gave up waiting for the last lines of a container before its removal", "container", jack.ShortID(id))
	}
}

// Instance returns what the collector knows of the container whose ID
// starts with prefix: the router names the instances it sent a request to
// by their container's ID.
func (c *Collector) Instance(prefix string) (*jack.LogContainer, bool) {
	if len(prefix) < 12 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if f := c.followers[prefix]; f != nil {
		return f.info, true
	}
	for id, f := range c.followers {
		if len(id) >= len(prefix) && id[:len(prefix)] == prefix {
			return f.info, true
		}
	}
	return nil, false
}

// Close stops every follower; what they stored is kept, and the next start
// resumes at the cursors.
func (c *Collector) Close() error {
	c.cancel()
	c.wg.Wait()
	return nil
}
