package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/jack-paas/jack"
	"github.com/spf13/cobra"
)

// newDeployCommand returns `jack deploy APP/ENV --image REF | --version LABEL`.
func newDeployCommand(c *cli) *cobra.Command {
	var (
		req          jack.DeployRequest
		manifestFile string
		wait         waitFlags
	)
	cmd := &cobra.Command{
		Use:   "deploy APP/ENV (--image REF [-f MANIFEST] [--label L] | -f Dockerrun.aws.json | --version LABEL)",
		Short: "Deploy an image, or an existing version, and wait until it serves",
		Long: `Deploy an image as a new version of the app, or an existing version (to
promote what staging runs to production), and follow the deployment step by
step. A failed deploy changes nothing and exits 1.

An image the engine lacks is pulled (always, with --pull) with the
credentials of its registry (jack registries), its progress shown as the
deployment's first steps; the version is pinned to the image's content
digest, so that a tag moved later never changes what it runs.`,
		Args: argsBetween(1, 1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			var err error
			if req.App, req.Env, err = parseRef(args[0]); err != nil {
				return err
			}
			if manifestFile != "" {
				req.ManifestName = filepath.Base(manifestFile)
			}
			if err := req.Validate(); err != nil {
				return usageErrorf("%s", jack.ErrorMessage(err))
			}
			if manifestFile != "" {
				buf, err := os.ReadFile(manifestFile)
				if err != nil {
					return fmt.Errorf("read manifest: %w", err)
				}
				req.Manifest = string(buf)
			}
			api, err := c.client()
			if err != nil {
				return err
			}
			d, err := api.Deploy(ctx, req)
			if err != nil {
				return err
			}
			return c.finish(ctx, api, d, req.App, req.Env, wait)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&req.Image, "image", "", "image reference, e.g. notes:v2 or registry.example.com/notes:v2 (pulled when the engine lacks it)")
	f.BoolVar(&req.Pull, "pull", false, "pull the image even when the engine has one of that name (a tag that moved)")
	f.StringVarP(&manifestFile, "file", "f", "", "manifest: jack.yaml, Procfile or Dockerrun.aws.json")
	f.StringVar(&req.Label, "label", "", "label of the new version (default v1, v2, …)")
	f.StringVar(&req.Version, "version", "", "deploy this existing version instead of an image")
	f.StringVar(&req.Strategy, "strategy", "", "rolling, immutable or all-at-once (default: the environment's, else the manifest's)")
	f.DurationVar(&req.Timeout, "timeout", 0, "give up and undo after this long (default: the manifest's, 10m)")
	f.BoolVar(&wait.noWait, "no-wait", false, "print the deployment's ID and return at once")
	f.BoolVar(&req.SkipRelease, "skip-release", false, "do not run the manifest's release command")
	f.BoolVar(&req.ForceRelease, "force-release", false, "run the release command even where it would not run")
	return cmd
}
