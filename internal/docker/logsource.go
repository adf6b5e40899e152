package docker

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	jack "github.com/jack-paas/jack"
)

var _ jack.LogSource = (*Runtime)(nil)

// logFilter selects the containers whose output Jack collects: this
// installation's (any Jack's when the runtime has no owner) that belong to
// an environment. That takes in, besides instances, the containers of
// release commands, one-off and cron runs, whatever else they carry.
func (r *Runtime) logFilter() filters.Args {
	args := filters.NewArgs(filters.Arg("label", jack.LabelApp), filters.Arg("label", jack.LabelEnv))
	if r.owner != "" {
		args.Add("label", jack.LabelOwner+"="+r.owner)
	} else {
		args.Add("label", jack.LabelOwner)
	}
	for k, v := range r.ExtraLabels {
		args.Add("label", k+"="+v)
	}
	return args
}

// LogContainers returns every container whose output Jack collects,
// running or not.
func (r *Runtime) LogContainers(ctx context.Context) ([]*jack.LogContainer, error) {
	list, err := r.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: r.logFilter()})
	if err != nil {
		return nil, r.fail(err, "list containers")
	}
	out := make([]*jack.LogContainer, 0, len(list))
	for _, s := range list {
		out = append(out, logContainer(s.ID, s.Labels, s.State == container.StateRunning))
	}
	return out, nil
}

// InspectLogContainer returns one container whose output Jack collects.
// ENOTFOUND if it is gone or is not one of them.
func (r *Runtime) InspectLogContainer(ctx context.Context, id string) (*jack.LogContainer, error) {
	resp, err := r.cli.ContainerInspect(ctx, id)
	if isNotFound(err) {
		return nil, jack.Errorf(jack.ENOTFOUND, "container %.12s is gone", id)
	} else if err != nil {
		return nil, r.fail(err, "inspect container %.12s", id)
	}
	if resp.Config == nil || resp.Config.Labels[jack.LabelApp] == "" || resp.Config.Labels[jack.LabelEnv] == "" ||
		(r.owner != "" && resp.Config.Labels[jack.LabelOwner] != r.owner) {
		return nil, jack.Errorf(jack.ENOTFOUND, "container %.12s is not one of Jack's", id)
	}
	running := resp.State != nil && (resp.State.Running || resp.State.Restarting)
	return logContainer(resp.ID, resp.Config.Labels, running), nil
}

// logContainer reads what the collector needs from a container's labels.
// The instance is process.slot, or process.ID for a container without slot
// (a one-off run).
func logContainer(id string, labels map[string]string, running bool) *jack.LogContainer {
	release, _ := strconv.Atoi(labels[jack.LabelRelease])
	process := labels[jack.LabelProcess]
	if process == "" {
		process = "run"
	}
	instance := process + "." + jack.ShortID(id)
	if slot, err := strconv.Atoi(labels[jack.LabelSlot]); err == nil && labels[jack.LabelSlot] != "" {
		instance = jack.InstanceName(process, slot)
	}
	return &jack.LogContainer{
		ID: id, App: labels[jack.LabelApp], Env: labels[jack.LabelEnv],
		Process: process, Instance: instance, Release: release, Running: running,
	}
}

// WatchLogContainers sends the ID of each container whose output Jack
// collects when it starts, until ctx ends. When the event stream breaks it
// reconnects with back-off and sends "", since starts may have been missed.
func (r *Runtime) WatchLogContainers(ctx context.Context) <-chan string {
	out := make(chan string, watchBuffer)
	opts := events.ListOptions{Filters: r.logFilter()}
	opts.Filters.Add("type", string(events.ContainerEventType))
	opts.Filters.Add("event", string(events.ActionStart))
	msgs, errs := r.cli.Events(ctx, opts)
	go func() {
		defer close(out)
		delay := watchMinDelay
		for {
			err := forwardStarts(ctx, msgs, errs, out, &delay)
			if ctx.Err() != nil {
				return
			}
			r.logger.Warn("lost the Docker event stream of the log collector; reconnecting", "err", err)
			if !r.awaitEngine(ctx, &delay) {
				return
			}
			msgs, errs = r.cli.Events(ctx, opts)
			select {
			case out <- "":
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// forwardStarts sends the IDs of started containers until the stream ends.
// A receiver that falls behind gets "" (list again) instead of the IDs it
// missed.
func forwardStarts(ctx context.Context, msgs <-chan events.Message, errs <-chan error, out chan<- string, delay *time.Duration) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errs:
			return err
		case m := <-msgs:
			*delay = watchMinDelay
			select {
			case out <- m.Actor.ID:
			default:
				select {
				case out <- "":
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
	}
}

// Where OpenLogs reads containers' output, as JACK_LOG_READER says.
const (
	logReaderEnv   = "JACK_LOG_READER"
	logReaderAuto  = "auto"  // the local driver's files when Jack can read them, else the API
	logReaderFiles = "files" // the files only: an error when they can't be read (tests)
	logReaderAPI   = "api"   // the engine's log API only
)

// logReaderMode checks the value of JACK_LOG_READER ("" is auto).
func logReaderMode(v string) (string, error) {
	switch v {
	case "", logReaderAuto:
		return logReaderAuto, nil
	case logReaderFiles, logReaderAPI:
		return v, nil
	}
	return "", jack.Errorf(jack.EINVALID, "%s=%q is not a log reader; use auto, files or api", logReaderEnv, v)
}

// OpenLogs opens a container's output from since on (inclusive), following
// it while it runs if asked: from the local driver's files when the engine
// is on this machine and Jack can read them (logfiles_linux.go), else
// through the engine's log API.
func (r *Runtime) OpenLogs(ctx context.Context, id string, since time.Time, follow bool) (jack.LogStream, error) {
	info, err := r.cli.ContainerInspect(ctx, id)
	if isNotFound(err) {
		return nil, jack.Errorf(jack.ENOTFOUND, "container %.12s is gone", id)
	} else if err != nil {
		return nil, r.fail(err, "inspect container %.12s", id)
	}
	if s, used, err := r.openLogsFromFiles(ctx, &info, since, follow); used {
		return s, err
	}
	opts := container.LogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true, Follow: follow}
	if !since.IsZero() {
		opts.Since = fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond())
	}
	rc, err := r.cli.ContainerLogs(ctx, id, opts)
	if isNotFound(err) {
		return nil, jack.Errorf(jack.ENOTFOUND, "container %.12s is gone", id)
	} else if err != nil {
		return nil, r.fail(err, "read the output of container %.12s", id)
	}
	return newFrameStream(rc, info.Config != nil && info.Config.Tty), nil
}

// LatestLogTime returns the stamp of the last line the engine holds of a
// container, the zero time when it holds none.
func (r *Runtime) LatestLogTime(ctx context.Context, id string) (time.Time, error) {
	rc, err := r.cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true, Tail: "1"})
	if isNotFound(err) {
		return time.Time{}, jack.Errorf(jack.ENOTFOUND, "container %.12s is gone", id)
	} else if err != nil {
		return time.Time{}, r.fail(err, "read the output of container %.12s", id)
	}
	s := newFrameStream(rc, false)
	defer s.Close()
	var latest time.Time
	for {
		lines, err := s.Read()
		for _, l := range lines {
			if l.Time.After(latest) {
				latest = l.Time
			}
		}
		if err != nil {
			return latest, nil
		}
	}
}
