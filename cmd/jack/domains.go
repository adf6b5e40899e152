package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/client"
	"github.com/spf13/cobra"
)

// newDomainsCommand is `jack domains`: list, add and remove an
// environment's custom domains, and give them certificates.
func newDomainsCommand(c *cli) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "domains APP/ENV",
		Short: "List an environment's domains and their certificates; add and remove domains",
		Args:  argsBetween(1, 1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			api, app, env, err := c.envClient(args[0])
			if err != nil {
				return err
			}
			domains, err := api.Domains(ctx, app, env)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(c.stdout, domains)
			}
			if len(domains) == 0 {
				fmt.Fprintf(c.stdout, "%s/%s has no custom domains; add one with `jack domains add %s/%s DOMAIN`\n", app, env, app, env)
				return nil
			}
			tw := table(c.stdout)
			fmt.Fprintln(tw, "DOMAIN\tCERTIFICATE\tEXPIRES")
			for _, d := range domains {
				cert, expires := "-", "-"
				if d.Certificate != nil {
					cert, expires = d.Certificate.Source, d.Certificate.NotAfter.Format("2006-01-02")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", d.Domain, cert, expires)
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	cmd.AddCommand(newDomainsAddCommand(c), newDomainsRemoveCommand(c))
	return cmd
}

// newDomainsAddCommand is `jack domains add APP/ENV DOMAIN... [--cert F --key F]`.
func newDomainsAddCommand(c *cli) *cobra.Command {
	var certFile, keyFile string
	cmd := &cobra.Command{
		Use:   "add APP/ENV DOMAIN...",
		Short: "Add custom domains (wildcards like *.example.com too), optionally with a certificate",
		Args:  argsBetween(2, 100),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			app, env, err := parseRef(args[0])
			if err != nil {
				return err
			}
			domains := args[1:]
			for _, d := range domains {
				if err := jack.ValidateDomain(d); err != nil {
					return usageErrorf("%s", jack.ErrorMessage(err))
				}
			}
			var req *client.CertificateRequest
			if certFile != "" || keyFile != "" {
				if certFile == "" || keyFile == "" {
					return usageErrorf("give both --cert and --key")
				}
				if len(domains) != 1 {
					return usageErrorf("--cert and --key go with one domain; add the others without them")
				}
				cert, err := os.ReadFile(certFile)
				if err != nil {
					return usageErrorf("read --cert: %v", err)
				}
				key, err := os.ReadFile(keyFile)
				if err != nil {
					return usageErrorf("read --key: %v", err)
				}
				req = &client.CertificateRequest{Cert: string(cert), Key: string(key)}
			}
			api, err := c.client()
			if err != nil {
				return err
			}
			e, err := api.ChangeDomains(ctx, app, env, client.DomainsChange{Add: domains})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "%s answers to %s\n", e.Ref(), strings.Join(e.Domains, ", "))
			if req != nil {
				cert, err := api.SetCertificate(ctx, app, env, domains[0], *req)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, "HTTPS for %s with the certificate for %s, valid until %s\n",
					cert.Domain, strings.Join(cert.Names, ", "), cert.NotAfter.Format(time.DateOnly))
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&certFile, "cert", "", "PEM certificate (chain) for the domain")
	cmd.Flags().StringVar(&keyFile, "key", "", "PEM private key of the certificate")
	return cmd
}

// newDomainsRemoveCommand is `jack domains remove APP/ENV DOMAIN...`.
func newDomainsRemoveCommand(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "remove APP/ENV DOMAIN...",
		Short: "Remove custom domains (and their certificates)",
		Args:  argsBetween(2, 100),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			app, env, err := parseRef(args[0])
			if err != nil {
				return err
			}
			for _, d := range args[1:] {
				if err := jack.ValidateDomain(d); err != nil {
					return usageErrorf("%s", jack.ErrorMessage(err))
				}
			}
			api, err := c.client()
			if err != nil {
				return err
			}
			e, err := api.ChangeDomains(ctx, app, env, client.DomainsChange{Remove: args[1:]})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "%s answers to %s\n", e.Ref(), dash(strings.Join(e.Domains, ", ")))
			return nil
		}),
	}
}

// newEnvsSwapCommand is `jack envs swap APP/ENV1 APP/ENV2`.
func newEnvsSwapCommand(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "swap APP/ENV1 APP/ENV2",
		Short: "Swap the custom domains of two environments at once (blue/green)",
		Args:  argsBetween(2, 2),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			app1, env1, err := parseRef(args[0])
			if err != nil {
				return err
			}
			app2, env2, err := parseRef(args[1])
			if err != nil {
				return err
			}
			api, err := c.client()
			if err != nil {
				return err
			}
			if err := api.SwapDomains(ctx, app1, env1, app2, env2); err != nil {
				return err
			}
			for _, ref := range [][2]string{{app1, env1}, {app2, env2}} {
				e, err := api.FindEnv(ctx, ref[0], ref[1])
				if err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, "%s answers to %s\n", e.Ref(), dash(strings.Join(e.Domains, ", ")))
			}
			return nil
		}),
	}
}

// newEnvsSetCommand is `jack envs set APP/ENV`: the edge settings.
func newEnvsSetCommand(c *cli) *cobra.Command {
	var edge edgeFlags
	var deployOnPush string
	cmd := &cobra.Command{
		Use:   "set APP/ENV [--body-limit SIZE] [--redirect-https=true|false] [--hsts DURATION] [--deploy-on-push TAG]",
		Short: "Change how the router treats an environment's traffic, or which push deploys it",
		Args:  argsBetween(1, 1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			app, env, err := parseRef(args[0])
			if err != nil {
				return err
			}
			change, err := edge.change(cmd)
			if err != nil {
				return err
			}
			onPush := cmd.Flags().Changed("deploy-on-push")
			if change.Empty() && !onPush {
				return usageErrorf("nothing to change: give --body-limit, --redirect-https, --hsts or --deploy-on-push")
			}
			if onPush && deployOnPush != "" {
				if err := jack.ValidateTag(deployOnPush); err != nil {
					return usageErrorf("--deploy-on-push: %s", jack.ErrorMessage(err))
				}
			}
			api, err := c.client()
			if err != nil {
				return err
			}
			if !change.Empty() {
				e, err := api.SetEdge(ctx, app, env, change)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, "%s: %s\n", e.Ref(), edgeWords(e.Edge))
			}
			if onPush {
				e, err := api.SetDeployOnPush(ctx, app, env, deployOnPush)
				if err != nil {
					return err
				}
				if e.DeployOnPush == "" {
					fmt.Fprintf(c.stdout, "%s: no push deploys it\n", e.Ref())
				} else {
					fmt.Fprintf(c.stdout, "%s: a push of %s:%s to Jack's registry deploys it\n", e.Ref(), e.App, e.DeployOnPush)
				}
			}
			return nil
		}),
	}
	edge.register(cmd)
	cmd.Flags().StringVar(&deployOnPush, "deploy-on-push", "", `deploy each push of APP:TAG to Jack's registry (jack server --registry); "" for none`)
	return cmd
}

// edgeFlags are the flags of the edge settings, on `envs create` and
// `envs set`.
type edgeFlags struct {
	bodyLimit, hsts string
	redirect        bool
}

func (f *edgeFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.bodyLimit, "body-limit", "", "largest request body, e.g. 10m (default 100m); larger ones get 413")
	cmd.Flags().BoolVar(&f.redirect, "redirect-https", false, "redirect plain HTTP requests to HTTPS")
	cmd.Flags().StringVar(&f.hsts, "hsts", "", "send Strict-Transport-Security with this max-age over HTTPS, e.g. 8760h; 0 for none")
}

// change returns the settings the flags given on cmd change.
func (f *edgeFlags) change(cmd *cobra.Command) (jack.EdgeChange, error) {
	var change jack.EdgeChange
	if cmd.Flags().Changed("body-limit") {
		n, err := jack.ParseSize(f.bodyLimit)
		if err != nil || n <= 0 {
			return change, usageErrorf("--body-limit %q is not a size; give one like 10m or 1g", f.bodyLimit)
		}
		change.BodyLimit = &n
	}
	if cmd.Flags().Changed("redirect-https") {
		change.RedirectHTTPS = &f.redirect
	}
	if cmd.Flags().Changed("hsts") {
		d, err := time.ParseDuration(f.hsts)
		if err != nil || d < 0 {
			return change, usageErrorf("--hsts %q is not a duration; give one like 8760h (a year), or 0 for none", f.hsts)
		}
		v := jack.Duration(d)
		change.HSTS = &v
	}
	return change, nil
}

// edgeWords says an environment's edge settings.
func edgeWords(e jack.EdgeSettings) string {
	return fmt.Sprintf("body limit %s, HTTPS redirect %s, HSTS %s", sizeWords(e.Limit()), onOff(e.RedirectHTTPS), hstsWords(e.HSTS))
}

func sizeWords(n int64) string {
	switch {
	case n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func hstsWords(d jack.Duration) string {
	if d == 0 {
		return "off"
	}
	return "max-age " + d.D().String()
}
