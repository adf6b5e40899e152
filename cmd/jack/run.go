package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/client"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// newRunCommand returns `jack run APP/ENV [-i] [-t] [--process P] -- COMMAND...`.
func newRunCommand(c *cli) *cobra.Command {
	var (
		req   jack.RunRequest
		list  bool
		limit int
		json  bool
	)
	cmd := &cobra.Command{
		Use:   "run APP/ENV [-i] [-t] [--process P] -- COMMAND...",
		Short: "Run a one-off command in a container of the current release",
		Long: `Run a command in a new container of the environment's current release: the
same image, config, volumes and network as its instances. Its output is
streamed, its exit code is jack's, and the container is removed afterwards.
-i passes standard input; -it gives an interactive terminal, for a shell or
a REPL. Ctrl-C stops the container. --list lists the runs with their exit
codes (also: jack runs APP/ENV).`,
		Args: cobra.MinimumNArgs(1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			var err error
			if req.App, req.Env, err = parseRef(args[0]); err != nil {
				return err
			}
			if list {
				if len(args) > 1 {
					return usageErrorf("--list takes no command")
				}
				return c.listRuns(ctx, req.App, req.Env, limit, json)
			}
			dash := cmd.ArgsLenAtDash()
			if dash != 1 || len(args) < 2 {
				return usageErrorf("give the command after --, such as jack run %s -- python3 manage.py migrate", args[0])
			}
			req.Command = args[1:]
			if req.Process != "" {
				if err := jack.ValidateName("process", req.Process); err != nil {
					return usageErrorf("%s", jack.ErrorMessage(err))
				}
			}
			if req.TTY && !req.Stdin {
				return usageErrorf("-t needs -i: give -it for an interactive terminal")
			}
			return c.run(ctx, req)
		}),
	}
	f := cmd.Flags()
	f.BoolVarP(&req.Stdin, "interactive", "i", false, "pass standard input to the command")
	f.BoolVarP(&req.TTY, "tty", "t", false, "give the command a terminal (with -i)")
	f.StringVar(&req.Process, "process", "", "the process whose resources (memory, cpus) it gets (default web)")
	f.BoolVar(&list, "list", false, "list the environment's runs and their exit codes")
	f.IntVarP(&limit, "limit", "n", 20, "with --list: how many runs")
	f.BoolVar(&json, "json", false, "with --list: print the API's JSON")
	return cmd
}

// run runs the command and exits with its exit code.
func (c *cli) run(ctx context.Context, req jack.RunRequest) error {
	api, err := c.client()
	if err != nil {
		return err
	}
	streams := client.RunStreams{Stdout: c.stdout, Stderr: c.stderr}
	if req.Stdin {
		streams.Stdin = c.stdin
	}
	if req.TTY {
		restore, size, resize, err := c.terminal()
		if err != nil {
			return err
		}
		defer restore()
		req.Size, streams.Resize = size, resize
	}
	// Ctrl-C (or SIGTERM) asks the server to stop the container; the
	// stream then ends with the container's exit code.
	stop := make(chan struct{})
	go func() {
		<-ctx.Done()
		close(stop)
	}()
	streams.Stop = stop
	run, err := api.Run(context.WithoutCancel(ctx), req, streams)
	if err != nil {
		return err
	}
	if run == nil {
		return fmt.Errorf("the API answered without the run")
	}
	if run.State == jack.RunFailed && run.Reason != "" && run.Reason != "stopped" {
		fmt.Fprintf(c.stderr, "jack: run %d: %s\n", run.ID, run.Reason)
	}
	if run.ExitCode != 0 {
		return &exitError{code: exitCode(run.ExitCode)}
	}
	return nil
}

// exitCode maps a container's exit code onto what a process can exit with.
func exitCode(code int) int {
	if code < 0 || code > 255 {
		return exitFailed
	}
	return code
}

// terminal puts the terminal in raw mode and follows its size; restore
// puts it back.
func (c *cli) terminal() (restore func(), size jack.TermSize, resize <-chan jack.TermSize, err error) {
	in, ok := c.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return nil, size, nil, usageErrorf("-t needs a terminal on standard input; drop -t to pipe input with -i")
	}
	out := in
	if f, ok := c.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		out = f
	}
	getSize := func() jack.TermSize {
		w, h, err := term.GetSize(int(out.Fd()))
		if err != nil {
			return jack.TermSize{}
		}
		return jack.TermSize{Width: uint(w), Height: uint(h)}
	}
	state, err := term.MakeRaw(int(in.Fd()))
	if err != nil {
		return nil, size, nil, fmt.Errorf("put the terminal in raw mode: %w", err)
	}
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	sizes := make(chan jack.TermSize, 1)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-winch:
				select {
				case sizes <- getSize():
				default:
				}
			}
		}
	}()
	restore = func() {
		signal.Stop(winch)
		close(done)
		term.Restore(int(in.Fd()), state)
	}
	return restore, getSize(), sizes, nil
}
