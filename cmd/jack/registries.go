package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// newRegistriesCommand returns `jack registries [add|remove]`.
func newRegistriesCommand(c *cli) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "registries",
		Short: "List the registries Jack pulls images from with credentials",
		Long: `Jack pulls an image a deploy names when its engine lacks it (always with
--pull), with the credentials stored here for the image's registry host.
Passwords are checked with the registry when added (as docker login does),
kept sealed with the server's secret key, and never shown.`,
		Args: argsBetween(0, 0),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return c.listRegistries(ctx, asJSON)
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	cmd.AddCommand(newRegistriesAdd(c), newRegistriesRemove(c))
	return cmd
}

func (c *cli) listRegistries(ctx context.Context, asJSON bool) error {
	api, err := c.client()
	if err != nil {
		return err
	}
	list, err := api.Registries(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(c.stdout, list)
	}
	if len(list) == 0 {
		fmt.Fprintln(c.stdout, "No registry credentials; add some with: jack registries add HOST --username U --password-stdin")
		return nil
	}
	now := time.Now()
	tw := table(c.stdout)
	fmt.Fprintln(tw, "HOST\tUSERNAME\tADDED")
	for _, r := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Host, r.Username, ago(now, r.CreatedAt))
	}
	return tw.Flush()
}

func newRegistriesAdd(c *cli) *cobra.Command {
	var username string
	var passwordStdin bool
	cmd := &cobra.Command{
		Use:   "add HOST --username U --password-stdin",
		Short: "Store credentials for a registry, checked with it first",
		Example: `  echo "$REGISTRY_TOKEN" | jack registries add registry.example.com --username ci --password-stdin
  jack registries add ghcr.io --username me --password-stdin   # prompts at a terminal`,
		Args: argsBetween(1, 1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			if username == "" {
				return usageErrorf("give --username")
			}
			if !passwordStdin && !c.stdinIsTerminal() {
				return usageErrorf("give --password-stdin and the password on standard input")
			}
			password, err := c.readSecret("Password: ")
			if err != nil {
				return err
			}
			if password == "" {
				return usageErrorf("no password on standard input")
			}
			api, err := c.client()
			if err != nil {
				return err
			}
			r, err := api.AddRegistry(ctx, args[0], username, password)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Registry %s: credentials of %s checked and stored\n", r.Host, r.Username)
			return nil
		}),
	}
	cmd.Flags().StringVar(&username, "username", "", "the user name at the registry")
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password (or token) from standard input")
	return cmd
}

func newRegistriesRemove(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "remove HOST",
		Short: "Forget a registry's credentials",
		Args:  argsBetween(1, 1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			api, err := c.client()
			if err != nil {
				return err
			}
			if err := api.RemoveRegistry(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Registry %s: credentials removed\n", args[0])
			return nil
		}),
	}
}

// readSecret reads a secret from standard input: a prompt without echo at
// a terminal, else all of it, without its final newline.
func (c *cli) readSecret(prompt string) (string, error) {
	if f, ok := c.stdin.(*os.File); ok && c.stdinIsTerminal() {
		fmt.Fprint(c.stderr, prompt)
		buf, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stderr)
		return strings.TrimSpace(string(buf)), err
	}
	buf, err := io.ReadAll(bufio.NewReader(c.stdin))
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	return strings.TrimRight(string(buf), "\r\n"), nil
}
