package web

import (
	"net/http"
	"sort"

	jack "github.com/jack-paas/jack"
)

// envRow is one environment on the overview.
type envRow struct {
	Env       *jack.Environment
	URL       string
	Version   string
	Last      *jack.Deployment
	Healthy   int
	Instances int
}

type overviewPage struct {
	Apps  []*jack.App
	Envs  []envRow
	Error string
}

// overview lists every app and environment with its state.
func (h *handler) overview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	apps, err := h.cfg.Store.ListApps(ctx)
	if err != nil {
		h.fail(w, err)
		return
	}
	envs, err := h.cfg.Store.ListEnvs(ctx, "")
	if err != nil {
		h.fail(w, err)
		return
	}
	page := overviewPage{Apps: apps}
	for _, env := range envs {
		row := envRow{Env: env, URL: h.url(env)}
		if env.Release > 0 {
			if rel, err := h.cfg.Store.FindRelease(ctx, env.ID, env.Release); err == nil {
				row.Version = rel.Version
			}
		}
		if last, err := h.cfg.Store.ListDeployments(ctx, env.ID, 1); err == nil && len(last) > 0 {
			row.Last = last[0]
		}
		if ins, err := h.cfg.Orchestrator.Instances(ctx, env.App, env.Name); err == nil {
			row.Instances = len(ins)
			for _, in := range ins {
				if in.State == jack.InstanceHealthy {
					row.Healthy++
				}
			}
		}
		page.Envs = append(page.Envs, row)
	}
	h.render(w, "overview", page)
}

type envPage struct {
	Env         *jack.Environment
	URL         string
	Release     *jack.Release
	Instances   []*jack.Instance
	Releases    []*jack.Release
	Deployments []*jack.Deployment
	Events      []*jack.Event
	ConfigKeys  []string
}

// env shows one environment in full.
func (h *handler) env(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	env, err := h.cfg.Store.FindEnv(ctx, r.PathValue("app"), r.PathValue("env"))
	if err != nil {
		h.fail(w, err)
		return
	}
	page := envPage{Env: env, URL: h.url(env)}
	for k := range env.Config {
		page.ConfigKeys = append(page.ConfigKeys, k)
	}
	sort.Strings(page.ConfigKeys)
	if page.Releases, err = h.cfg.Store.ListReleases(ctx, env.ID); err != nil {
		h.fail(w, err)
		return
	}
	for _, rel := range page.Releases {
		if rel.Number == env.Release {
			page.Release = rel
		}
	}
	if len(page.Releases) > 20 {
		page.Releases = page.Releases[:20]
	}
	if page.Instances, err = h.cfg.Orchestrator.Instances(ctx, env.App, env.Name); err != nil {
		h.fail(w, err)
		return
	}
	if page.Deployments, err = h.cfg.Store.ListDeployments(ctx, env.ID, 5); err != nil {
		h.fail(w, err)
		return
	}
	events, err := h.cfg.Store.ListEvents(ctx, env.ID, 0, 30)
	if err != nil {
		h.fail(w, err)
		return
	}
	for i := len(events) - 1; i >= 0; i-- { // newest first
		page.Events = append(page.Events, events[i])
	}
	h.render(w, "env", page)
}
