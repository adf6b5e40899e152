// Package notify sends an environment's deploy and health events to its
// webhooks: JSON bodies with Slack-compatible text, signed with HMAC-SHA256
// of the body under each hook's secret, retried with back-off, and kept as
// a history of deliveries in the store (so retries survive a restart).
package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	jack "github.com/jack-paas/jack"
)

// Headers of every delivery. SignatureHeader is "sha256=" and the hex
// HMAC-SHA256 of the body, keyed with the hook's secret.
const (
	SignatureHeader = "X-Jack-Signature-256"
	EventHeader     = "X-Jack-Event"
	DeliveryHeader  = "X-Jack-Delivery"
)

// Sign returns the signature header value of body under secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Config is what a Notifier is built from.
type Config struct {
	Store  jack.Store
	Client *http.Client // default: 10s timeout, no redirects followed
	Logger *slog.Logger
	Now    func() time.Time
	// RetryBase is the wait before the first retry; it doubles at each
	// retry up to an hour. Default 2s.
	RetryBase time.Duration
	// MaxAttempts is how many times a delivery is tried; default 8.
	MaxAttempts int
}

// Notifier queues and sends webhook deliveries.
type Notifier struct {
	cfg    Config
	logger *slog.Logger
	now    func() time.Time

	events chan event
	wake   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// event is one thing to tell an environment's hooks.
type event struct {
	envID   int64
	name    string
	payload Payload
}

// New returns a notifier; Start starts it.
func New(cfg Config) *Notifier {
	if cfg.Client == nil {
		cfg.Client = &http.Client{
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 2 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 8
	}
	return &Notifier{cfg: cfg, logger: cfg.Logger, now: cfg.Now, events: make(chan event, 1024), wake: make(chan struct{}, 1)}
}

// Start runs the queue and the sender until Close. Deliveries left pending
// by a previous run are sent too.
func (n *Notifier) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.wg.Add(2)
	go func() { defer n.wg.Done(); n.queue(ctx) }()
	go func() { defer n.wg.Done(); n.send(ctx) }()
}

// Close stops the notifier; pending deliveries stay in the store.
func (n *Notifier) Close() error {
	if n.cancel != nil {
		n.cancel()
		n.wg.Wait()
	}
	return nil
}

// Deploy tells the environment's hooks of a deployment's start or end. It
// does not block; it fits deploy.Config.OnDeployment.
func (n *Notifier) Deploy(notice jack.DeployNotice) {
	n.post(event{envID: notice.Env.ID, name: notice.Event, payload: deployPayload(notice, n.now())})
}

// HealthChanged tells the environment's hooks of a health transition. It
// does not block; it fits metrics.Config.OnHealthChange.
func (n *Notifier) HealthChanged(env *jack.Environment, from string, h *jack.Health) {
	n.post(event{envID: env.ID, name: jack.HookHealthChanged, payload: healthPayload(env, from, h, n.now())})
}

func (n *Notifier) post(e event) {
	select {
	case n.events <- e:
	default:
		n.logger.Error("webhook queue full; event dropped", "env", e.envID, "event", e.name)
	}
}

// queue turns events into stored deliveries, one per hook, in order.
func (n *Notifier) queue(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-n.events:
			if err := n.enqueue(ctx, e); err != nil && ctx.Err() == nil {
				n.logger.Error("queue webhook deliveries", "env", e.envID, "event", e.name, "err", err)
			}
		}
	}
}

func (n *Notifier) enqueue(ctx context.Context, e event) error {
	hooks, err := n.cfg.Store.ListHooks(ctx, e.envID)
	if err != nil || len(hooks) == 0 {
		return err
	}
	body, err := e.payload.encode()
	if err != nil {
		return err
	}
	for _, h := range hooks {
		d := &jack.Delivery{HookID: h.ID, EnvID: e.envID, Event: e.name, Payload: body, State: jack.DeliveryPending, NextAttempt: n.now()}
		if err := n.cfg.Store.CreateDelivery(ctx, d); err != nil {
			return err
		}
	}
	select {
	case n.wake <- struct{}{}:
	default:
	}
	return nil
}

// send delivers what is due, then sleeps until the next is due or a new
// one is queued.
func (n *Notifier) send(ctx context.Context) {
	for {
		due, err := n.cfg.Store.DueDeliveries(ctx, n.now(), 100)
		if err != nil && ctx.Err() == nil {
			n.logger.Error("list due webhook deliveries", "err", err)
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, 4)
		for _, d := range due {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				n.attempt(ctx, d)
			}()
		}
		wg.Wait()
		if len(due) == 100 {
			continue // more are due
		}
		wait := time.Minute
		if next, err := n.cfg.Store.NextDelivery(ctx); err == nil && !next.IsZero() {
			wait = max(next.Sub(n.now()), 10*time.Millisecond)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-n.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// attempt sends one delivery once and records the outcome: delivered on
// 2xx; else retried after a back-off, unless the receiver refused it for
// good (a 4xx other than 408 and 429) or the attempts are used up.
func (n *Notifier) attempt(ctx context.Context, d *jack.Delivery) {
	hooks, err := n.cfg.Store.ListHooks(ctx, d.EnvID)
	if err != nil {
		return
	}
	var hook *jack.Hook
	for _, h := range hooks {
		if h.ID == d.HookID {
			hook = h
		}
	}
	if hook == nil {
		return // removed meanwhile, with its deliveries
	}
	code, err := n.post1(ctx, hook, d)
	if ctx.Err() != nil {
		return
	}
	d.Attempts++
	d.StatusCode = code
	d.Error = ""
	now := n.now()
	switch {
	case err == nil && code >= 200 && code < 300:
		d.State, d.DoneAt = jack.DeliveryDelivered, &now
	default:
		if err != nil {
			d.Error = err.Error()
		} else {
			d.Error = fmt.Sprintf("the receiver answered %d", code)
		}
		permanent := err == nil && code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests
		if permanent || d.Attempts >= n.cfg.MaxAttempts {
			d.State, d.DoneAt = jack.DeliveryFailed, &now
		} else {
			d.NextAttempt = now.Add(n.backoff(d.Attempts))
		}
	}
	if err := n.cfg.Store.UpdateDelivery(context.WithoutCancel(ctx), d); err != nil {
		n.logger.Error("save webhook delivery", "delivery", d.ID, "err", err)
	}
	if d.State == jack.DeliveryFailed {
		n.logger.Warn("webhook delivery failed", "url", hook.URL, "event", d.Event, "attempts", d.Attempts, "err", d.Error)
	}
}

// backoff is the wait after the given number of failed attempts.
func (n *Notifier) backoff(attempts int) time.Duration {
	d := n.cfg.RetryBase << min(attempts-1, 20)
	return min(d, time.Hour)
}

// post1 makes one HTTP request and returns the status.
func (n *Notifier) post1(ctx context.Context, hook *jack.Hook, d *jack.Delivery) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, strings.NewReader(d.Payload))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "jack-webhooks/1")
	req.Header.Set(EventHeader, d.Event)
	req.Header.Set(DeliveryHeader, strconv.FormatInt(d.ID, 10))
	req.Header.Set(SignatureHeader, Sign(hook.Secret, []byte(d.Payload)))
	resp, err := n.cfg.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("POST %s: %w", hook.URL, rootCause(err))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// rootCause strips url.Error wrapping.
func rootCause(err error) error {
	type unwrapper interface{ Unwrap() error }
	for {
		u, ok := err.(unwrapper)
		if !ok || u.Unwrap() == nil {
			return err
		}
		next := u.Unwrap()
		if _, ok := next.(unwrapper); !ok {
			return next
		}
		err = next
	}
}
