package main

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/client"
	"github.com/jack-paas/jack/internal/localconf"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// newLoginCommand returns `jack login [--api URL] [--token TOKEN]`.
func newLoginCommand(c *cli) *cobra.Command {
	var api, token string
	cmd := &cobra.Command{
		Use:   "login [--api URL] [--token TOKEN]",
		Short: "Check and remember the API's address and token for later commands",
		Long: `Check that the API answers and accepts the token, then remember both in
the user's config folder (mode 0600). Without --token the token is read from
standard input; without --api the API is the one commands use now.`,
		Args: argsBetween(0, 0),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			if api == "" {
				t, err := c.target()
				if err != nil {
					return err
				}
				api = t.API
			}
			api = strings.TrimSuffix(api, "/")
			if u, err := url.Parse(api); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return usageErrorf("--api %q is not a URL; give one like http://127.0.0.1:7070", api)
			}
			if token == "" {
				token = c.readToken()
			}
			if token == "" {
				return usageErrorf("no token; give --token TOKEN or type it on standard input")
			}
			if _, err := client.New(api, token).ListApps(ctx); jack.ErrorCode(err) == jack.EUNAUTHORIZED {
				return fmt.Errorf("the API at %s refused the token; nothing saved", api)
			} else if err != nil {
				return err
			}
			if err := localconf.WriteLogin(localconf.Login{API: api, Token: token}); err != nil {
				return err
			}
			path, _ := localconf.LoginPath()
			fmt.Fprintf(c.stdout, "Logged in to %s; saved in %s\n", api, path)
			return nil
		}),
	}
	cmd.Flags().StringVar(&api, "api", "", "the API's URL (default: $JACK_API, else the one stored, else http://127.0.0.1:7070)")
	cmd.Flags().StringVar(&token, "token", "", "the API token (default: read from standard input)")
	return cmd
}

// readToken reads a token from standard input: a prompt without echo at a
// terminal, else one line (`echo $TOKEN | jack login`).
func (c *cli) readToken() string {
	if f, ok := c.stdin.(*os.File); ok && c.stdinIsTerminal() {
		fmt.Fprint(c.stderr, "API token: ")
		buf, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stderr)
		if err == nil {
			return strings.TrimSpace(string(buf))
		}
	}
	line, _ := bufio.NewReader(c.stdin).ReadString('\n')
	return strings.TrimSpace(line)
}
