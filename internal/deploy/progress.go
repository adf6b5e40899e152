package deploy

import (
	"context"
	"fmt"
	"sync"

	jack "github.com/jack-paas/jack"
)

// progress records a running deployment's steps, in the store and for the
// clients that follow it.
type progress struct {
	o *Orchestrator
	d *jack.Deployment
}

// step records one line of progress; a nil progress (work no deployment
// asked for, such as a heal) records nothing.
func (p *progress) step(format string, args ...any) {
	if p == nil {
		return
	}
	msg := fmt.Sprintf(format, args...)
	p.o.mu.Lock()
	p.d.Steps = append(p.d.Steps, jack.Step{Time: p.o.now(), Message: msg})
	p.o.mu.Unlock()
	p.o.logger.Info("deploy step", "env", p.d.Env, "deployment", p.d.ID, "step", msg)
	p.save()
}

// save writes the deployment to the store and wakes its followers.
func (p *progress) save() {
	p.o.mu.Lock()
	cp := *p.d
	cp.Steps = append([]jack.Step(nil), p.d.Steps...)
	p.o.mu.Unlock()
	if err := p.o.store.UpdateDeployment(context.WithoutCancel(context.Background()), &cp); err != nil {
		p.o.logger.Error("save deployment", "deployment", p.d.ID, "err", err)
	}
	p.o.watchers.notify(p.d.ID)
}

// watchers wakes the clients that wait for a deployment to change.
type watchers struct {
	mu sync.Mutex
	ch map[int64]chan struct{}
}

// wait returns a channel closed at the deployment's next change.
func (w *watchers) wait(id int64) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch == nil {
		w.ch = map[int64]chan struct{}{}
	}
	c, ok := w.ch[id]
	if !ok {
		c = make(chan struct{})
		w.ch[id] = c
	}
	return c
}

func (w *watchers) notify(id int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c, ok := w.ch[id]; ok {
		close(c)
		delete(w.ch, id)
	}
}
