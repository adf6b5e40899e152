package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/client"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Exit statuses of product.md.
const (
	exitOK     = 0
	exitFailed = 1 // the operation failed: an API error, a failed deploy
	exitUsage  = 2 // wrong arguments or flags
)

// cli is what every command shares: its standard streams and how it finds
// the API. Tests make one with buffers and run commands in process.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// stdinIsTerminal reports whether a person can answer a prompt.
	stdinIsTerminal func() bool
	// adminTokenFile is the token a server with the default data folder
	// writes; the last place the token is looked for.
	adminTokenFile string

	// ran is set once a command's own code starts (see markRuns), so
	// that errors before it (cobra's parsing) count as usage errors.
	ran bool
	// tokenHint, when set, says why no stored token could be read.
	tokenHint string
}

// newCLI returns the cli of the real process.
func newCLI() *cli {
	return &cli{
		stdin:  os.Stdin,
		stdout: os.Stdout,
		stderr: os.Stderr,
		// A real terminal, not any character device: /dev/null is one too.
		stdinIsTerminal: func() bool { return term.IsTerminal(int(os.Stdin.Fd())) },
		adminTokenFile:  "/var/lib/jack/admin-token",
	}
}

// newRoot builds the command tree: every verb, one line each, in the
// order of `jack --help`. To add a verb, write its maker in a file of its
// own and list it here. A maker runs each time the tree is built (once per
// run, and once per in-process test run), with the cli whose stdout and
// stderr its command writes to. An error its RunE returns exits 1 (a
// usageError 2, an exitError its code) and is printed as "jack: MESSAGE";
// flag and argument errors cobra finds exit 2.
func newRoot(c *cli) *cobra.Command {
	root := &cobra.Command{
		Use:           "jack",
		Short:         "A self-hosted Elastic Beanstalk for Docker images",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetIn(c.stdin)
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageErrorf("%v", err)
	})
	root.AddCommand(
		newAppsCommand(c),
		newConfigCommand(c),
		newCronCommand(c),
		newDeployCommand(c),
		newDomainsCommand(c),
		newDrainsCommand(c),
		newEnvsCommand(c),
		newEventsCommand(c),
		newHealthCommand(c),
		newHooksCommand(c),
		newLoginCommand(c),
		newLogsCommand(c),
		newPsCommand(c),
		newRegistriesCommand(c),
		newReleasesCommand(c),
		newRestartCommand(c),
		newRollbackCommand(c),
		newRouterCommand(c), // hidden: jack server starts it
		newRunCommand(c),
		newRunsCommand(c),
		newScaleCommand(c),
		newServerCommand(c),
		newStatusCommand(c),
		newVersionCommand(c),
		newVersionsCommand(c),
	)
	return root
}

// markRuns wraps the Run or RunE of cmd and of every command under it so
// that c.ran is set once cobra has parsed the command line: an error
// returned before that is a usage error, one returned after is the
// operation's.
func (c *cli) markRuns(cmd *cobra.Command) {
	if run := cmd.RunE; run != nil {
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			c.ran = true
			return run(cmd, args)
		}
	} else if run := cmd.Run; run != nil {
		cmd.Run = func(cmd *cobra.Command, args []string) {
			c.ran = true
			run(cmd, args)
		}
	}
	for _, sub := range cmd.Commands() {
		c.markRuns(sub)
	}
}

// run runs the command line args and returns the exit status, having
// printed any error as one line on stderr.
func run(ctx context.Context, c *cli, args []string) int {
	return execute(ctx, c, newRoot(c), args)
}

// execute runs the command line args on the tree root, as run does; tests
// hand it a tree with commands of their own added.
func execute(ctx context.Context, c *cli, root *cobra.Command, args []string) int {
	c.markRuns(root)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	var usage *usageError
	var exit *exitError
	switch {
	case errors.As(err, &exit):
		return exit.code
	case errors.As(err, &usage) || !c.ran:
		fmt.Fprintf(c.stderr, "jack: %s; see `%s --help`\n", strings.TrimSuffix(err.Error(), "."), cmd.CommandPath())
		return exitUsage
	}
	msg := err.Error()
	if jack.ErrorCode(err) == jack.EUNAUTHORIZED && c.tokenHint != "" {
		msg += "; " + c.tokenHint
	}
	fmt.Fprintf(c.stderr, "jack: %s\n", msg)
	var failed *deployFailedError
	if errors.As(err, &failed) {
		failed.printOutput(c.stderr)
	}
	return exitFailed
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usageErrorf returns a usageError with a formatted message.
func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// exitError ends the program with a status and nothing more printed; the
// command printed what there was to say.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// action adapts a command's code to cobra's RunE, handing it the context
// first.
func (c *cli) action(fn func(ctx context.Context, cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		return fn(cmd.Context(), cmd, args)
	}
}

// client returns a client of the API the command line points at.
func (c *cli) client() (*client.Client, error) {
	t, err := c.target()
	if err != nil {
		return nil, err
	}
	return client.New(t.API, t.Token), nil
}

// envClient parses an APP/ENV argument and returns the API client: how
// every command on an environment begins.
func (c *cli) envClient(ref string) (api *client.Client, app, env string, err error) {
	if app, env, err = parseRef(ref); err != nil {
		return nil, "", "", err
	}
	if api, err = c.client(); err != nil {
		return nil, "", "", err
	}
	return api, app, env, nil
}

// appClient checks an APP argument and returns the API client: how every
// command on an app begins.
func (c *cli) appClient(app string) (*client.Client, error) {
	if err := parseApp(app); err != nil {
		return nil, err
	}
	return c.client()
}

// argsBetween accepts from min to max arguments (max -1: no limit).
func argsBetween(min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min || (max >= 0 && len(args) > max) {
			return usageErrorf("wrong number of arguments; usage: %s", cmd.UseLine())
		}
		return nil
	}
}

// parseRef parses APP/ENV from the command line; a malformed one is a
// usage error.
func parseRef(ref string) (app, env string, err error) {
	app, env, err = jack.ParseEnvRef(ref)
	if err != nil {
		return "", "", usageErrorf("%s", jack.ErrorMessage(err))
	}
	return app, env, nil
}

// parseApp checks an APP from the command line; a malformed one is a usage
// error.
func parseApp(app string) error {
	if err := jack.ValidateName("app", app); err != nil {
		return usageErrorf("%s", jack.ErrorMessage(err))
	}
	return nil
}
