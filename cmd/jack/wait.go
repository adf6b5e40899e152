package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/client"
)

// waitFlags are the flags of every command that starts a deployment.
type waitFlags struct {
	noWait bool
}

// finish ends a command that started deployment d on app/env: with
// --no-wait it prints the deployment's ID; else it prints each step as it
// happens and a last line saying how long it took and what serves now, or
// returns a deployFailedError.
func (c *cli) finish(ctx context.Context, api *client.Client, d *jack.Deployment, app, env string, flags waitFlags) error {
	if flags.noWait {
		fmt.Fprintln(c.stdout, d.ID)
		return nil
	}
	printed := 0
	final, err := api.FollowDeployment(ctx, d.ID, func(d *jack.Deployment) {
		for ; printed < len(d.Steps); printed++ {
			step := d.Steps[printed]
			fmt.Fprintf(c.stdout, "  +%.2fs  %s\n", step.Time.Sub(d.CreatedAt).Seconds(), step.Message)
		}
	})
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("stopped waiting; deployment %d goes on (follow it with `jack events %s/%s -f`)", d.ID, app, env)
	} else if err != nil {
		return err
	}
	if final.State == jack.DeploymentFailed {
		return &deployFailedError{d: final}
	}
	fmt.Fprintln(c.stdout, c.summary(ctx, api, final, app, env))
	return nil
}

// summary returns the line that ends a successful deployment, such as
// "Deployed notes/production release 4 (v2) in 1.32s: http://…". The
// version label and URL are left out if they can't be fetched: the
// deployment itself succeeded.
func (c *cli) summary(ctx context.Context, api *client.Client, d *jack.Deployment, app, env string) string {
	ref := app + "/" + env
	release := fmt.Sprintf("release %d", d.ReleaseNumber)
	if releases, err := api.ListReleases(ctx, app, env); err == nil {
		for _, r := range releases {
			if r.Number == d.ReleaseNumber {
				release += " (" + r.Version + ")"
			}
		}
	}
	took := seconds(elapsed(d))
	var line string
	switch d.Kind {
	case jack.KindDeploy:
		line = fmt.Sprintf("Deployed %s %s in %s", ref, release, took)
	case jack.KindRollback:
		line = fmt.Sprintf("Rolled back %s, now %s, in %s", ref, release, took)
	case jack.KindConfig:
		line = fmt.Sprintf("Config changed on %s, now %s, in %s", ref, release, took)
	case jack.KindScale:
		line = fmt.Sprintf("Scaled %s, now %s, in %s", ref, release, took)
	case jack.KindRestart:
		line = fmt.Sprintf("Restarted %s %s in %s", ref, release, took)
	default:
		line = fmt.Sprintf("Finished %s of %s, now %s, in %s", d.Kind, ref, release, took)
	}
	if e, err := api.FindEnv(ctx, app, env); err == nil && e.URL != "" {
		line += ": " + e.URL
	}
	return line
}

// deployFailedError is a deployment that ended failed: exit status 1, with
// the failing instance's last output after the error line.
type deployFailedError struct{ d *jack.Deployment }

func (e *deployFailedError) Error() string {
	msg := fmt.Sprintf("%s of %s release %d failed after %s: %s", e.d.Kind, e.d.Env, e.d.ReleaseNumber, seconds(elapsed(e.d)), e.d.Reason)
	if e.d.FromRelease > 0 {
		msg += fmt.Sprintf("; release %d still serves", e.d.FromRelease)
	}
	return msg
}

// printOutput prints the failing instance's last lines, indented.
func (e *deployFailedError) printOutput(w io.Writer) {
	if len(e.d.Output) == 0 {
		return
	}
	fmt.Fprintln(w, "  last output:")
	for _, line := range e.d.Output {
		fmt.Fprintf(w, "    %s\n", line)
	}
}

// elapsed returns how long a finished deployment took.
func elapsed(d *jack.Deployment) time.Duration {
	if d.FinishedAt == nil {
		return 0
	}
	return d.FinishedAt.Sub(d.CreatedAt)
}

// seconds formats a duration as "1.32s".
func seconds(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }
