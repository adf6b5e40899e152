package docker

import (
	"context"
	"net"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	jack "github.com/jack-paas/jack"
)

// List returns the instances of app/env ("" for all apps or all
// environments) found by their labels, running or not. One list call gives
// what a running instance needs; only instances that are not running are
// inspected, for their exit code and times. A running instance's StartedAt
// is its creation time, which for Jack's containers is the moment of its
// start, since Jack never restarts a container.
func (r *Runtime) List(ctx context.Context, app, env string) ([]*jack.Container, error) {
	summaries, err := r.listManaged(ctx, app, env)
	if err != nil {
		return nil, err
	}
	out := make([]*jack.Container, 0, len(summaries))
	for _, s := range summaries {
		if !isInstance(s.Labels) {
			continue // a one-off container: see ListOneOffs
		}
		if s.State != container.StateRunning {
			c, err := r.Inspect(ctx, s.ID)
			if jack.ErrorCode(err) == jack.ENOTFOUND {
				continue // removed since the list
			} else if err != nil {
				return nil, err
			}
			out = append(out, c)
			continue
		}
		c := fromLabels(s.ID, s.Labels)
		c.Running = true
		c.StartedAt = time.Unix(s.Created, 0).UTC()
		if s.NetworkSettings != nil {
			if n := s.NetworkSettings.Networks[r.network]; n != nil {
				c.Address = address(n.IPAddress, s.Labels)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// isInstance reports whether a container's labels make it an instance of a
// process rather than a one-off container. Containers of Jacks older than
// the kind label are instances.
func isInstance(labels map[string]string) bool {
	kind := labels[jack.LabelKind]
	return kind == "" || kind == jack.KindInstance
}

// listManaged lists this runtime's containers of app/env ("" for all apps
// or all environments), instances and one-off containers alike, running
// or not.
func (r *Runtime) listManaged(ctx context.Context, app, env string) ([]container.Summary, error) {
	args := r.managedFilter()
	if app != "" {
		args.Add("label", jack.LabelApp+"="+app)
	}
	if env != "" {
		args.Add("label", jack.LabelEnv+"="+env)
	}
	summaries, err := r.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: args})
	if err != nil {
		return nil, r.fail(err, "list containers")
	}
	return summaries, nil
}

// managedFilter selects the containers this runtime owns.
func (r *Runtime) managedFilter() filters.Args {
	args := filters.NewArgs(filters.Arg("label", jack.LabelManaged+"=true"))
	if r.owner != "" {
		args.Add("label", jack.LabelOwner+"="+r.owner)
	}
	for k, v := range r.ExtraLabels {
		args.Add("label", k+"="+v)
	}
	return args
}

// Inspect returns one instance. ENOTFOUND if it is gone or is not Jack's.
func (r *Runtime) Inspect(ctx context.Context, id string) (*jack.Container, error) {
	resp, err := r.cli.ContainerInspect(ctx, id)
	if isNotFound(err) {
		return nil, jack.Errorf(jack.ENOTFOUND, "instance %.12s is gone", id)
	} else if err != nil {
		return nil, r.fail(err, "inspect container %.12s", id)
	}
	if resp.Config == nil || resp.Config.Labels[jack.LabelManaged] != "true" {
		return nil, jack.Errorf(jack.ENOTFOUND, "container %.12s is not one of Jack's instances", id)
	}
	c := fromLabels(resp.ID, resp.Config.Labels)
	if c.StopTimeout == 0 && resp.Config.StopTimeout != nil {
		c.StopTimeout = time.Duration(*resp.Config.StopTimeout) * time.Second
	}
	if st := resp.State; st != nil {
		c.Running = st.Running
		c.ExitCode = st.ExitCode
		c.OOMKilled = st.OOMKilled
		c.StartedAt = parseTime(st.StartedAt)
		c.FinishedAt = parseTime(st.FinishedAt)
	}
	if resp.NetworkSettings != nil {
		if n := resp.NetworkSettings.Networks[r.network]; n != nil {
			c.Address = address(n.IPAddress, resp.Config.Labels)
		}
	}
	return c, nil
}

// fromLabels rebuilds what Jack knows of an instance from its labels.
func fromLabels(id string, labels map[string]string) *jack.Container {
	slot, _ := strconv.Atoi(labels[jack.LabelSlot])
	release, _ := strconv.Atoi(labels[jack.LabelRelease])
	deployment, _ := strconv.ParseInt(labels[jack.LabelDeployment], 10, 64)
	stopTimeout, _ := time.ParseDuration(labels[labelStopTimeout])
	return &jack.Container{
		ID:          id,
		Owner:       labels[jack.LabelOwner],
		App:         labels[jack.LabelApp],
		Env:         labels[jack.LabelEnv],
		Process:     labels[jack.LabelProcess],
		Slot:        slot,
		Release:     release,
		Version:     labels[jack.LabelVersion],
		Deployment:  deployment,
		Spec:        labels[jack.LabelSpec],
		Kind:        kindOf(labels),
		StopTimeout: stopTimeout,
	}
}

// address joins a container's IP and the port from its labels; "" when the
// container has no IP (it is not running).
func address(ip string, labels map[string]string) string {
	port := labels[jack.LabelPort]
	if ip == "" || port == "" {
		return ""
	}
	return net.JoinHostPort(ip, port)
}

// parseTime reads an engine timestamp; the engine's "never" is the zero time.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t
}

// kindOf returns a container's kind, KindInstance when it has no label.
func kindOf(labels map[string]string) string {
	if k := labels[jack.LabelKind]; k != "" {
		return k
	}
	return jack.KindInstance
}
