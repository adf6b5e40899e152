package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/jack-paas/jack"
	"github.com/spf13/cobra"
)

// newConfigCommand returns `jack config APP/ENV` (list, masked) with get,
// set and unset.
func newConfigCommand(c *cli) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "config APP/ENV",
		Short: "List an environment's config vars (values masked); get, set and unset them",
		Args:  argsBetween(1, 1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			api, app, env, err := c.envClient(args[0])
			if err != nil {
				return err
			}
			config, err := api.Config(ctx, app, env)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(c.stdout, map[string]any{"config": config})
			}
			if len(config) == 0 {
				fmt.Fprintf(c.stdout, "No config vars on %s/%s; set some with `jack config set %s/%s KEY=VALUE`\n", app, env, app, env)
				return nil
			}
			keys := make([]string, 0, len(config))
			for k := range config {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			tw := table(c.stdout)
			fmt.Fprintln(tw, "KEY\tVALUE")
			for _, k := range keys {
				fmt.Fprintf(tw, "%s\t%s\n", k, config[k])
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	cmd.AddCommand(newConfigGetCommand(c), newConfigSetCommand(c), newConfigUnsetCommand(c))
	return cmd
}

// newConfigGetCommand returns `jack config get APP/ENV KEY`.
func newConfigGetCommand(c *cli) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "get APP/ENV KEY",
		Short: "Print one config value, revealed",
		Args:  argsBetween(2, 2),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			api, app, env, err := c.envClient(args[0])
			if err != nil {
				return err
			}
			value, err := api.ConfigValue(ctx, app, env, args[1])
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(c.stdout, map[string]string{"key": args[1], "value": value})
			}
			_, err = io.WriteString(c.stdout, value+"\n")
			return err
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the key and value as JSON")
	return cmd
}

// newConfigSetCommand returns `jack config set APP/ENV KEY=VALUE...`.
func newConfigSetCommand(c *cli) *cobra.Command {
	var wait waitFlags
	cmd := &cobra.Command{
		Use:   "set APP/ENV KEY=VALUE...",
		Short: "Set config vars and roll them out as a new release",
		Args:  argsBetween(2, -1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			app, env, err := parseRef(args[0])
			if err != nil {
				return err
			}
			set, err := parseConfigSet(args[1:])
			if err != nil {
				return err
			}
			return c.changeConfig(ctx, app, env, set, nil, wait)
		}),
	}
	cmd.Flags().BoolVar(&wait.noWait, "no-wait", false, "print the deployment's ID and return at once")
	return cmd
}

// newConfigUnsetCommand returns `jack config unset APP/ENV KEY...`.
func newConfigUnsetCommand(c *cli) *cobra.Command {
	var wait waitFlags
	cmd := &cobra.Command{
		Use:   "unset APP/ENV KEY...",
		Short: "Remove config vars and roll the change out as a new release",
		Args:  argsBetween(2, -1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			app, env, err := parseRef(args[0])
			if err != nil {
				return err
			}
			for _, k := range args[1:] {
				if strings.Contains(k, "=") {
					return usageErrorf("%q: unset takes keys, not KEY=VALUE", k)
				}
				if err := jack.ValidateConfigKey(k); err != nil {
					return usageErrorf("%s", jack.ErrorMessage(err))
				}
			}
			return c.changeConfig(ctx, app, env, nil, args[1:], wait)
		}),
	}
	cmd.Flags().BoolVar(&wait.noWait, "no-wait", false, "print the deployment's ID and return at once")
	return cmd
}

// changeConfig sends a config change and follows its deployment.
func (c *cli) changeConfig(ctx context.Context, app, env string, set map[string]string, unset []string, wait waitFlags) error {
	api, err := c.client()
	if err != nil {
		return err
	}
	d, err := api.SetConfig(ctx, app, env, set, unset)
	if err != nil {
		return err
	}
	if d == nil {
		fmt.Fprintf(c.stdout, "Config of %s/%s stored; it applies from the first deploy\n", app, env)
		return nil
	}
	return c.finish(ctx, api, d, app, env, wait)
}

// parseConfigSet parses KEY=VALUE arguments. The value is everything after
// the first '=', so it may hold '=' itself; a KEY without '=' is a usage
// error rather than an empty value, since it is most likely a typo. Errors
// never quote a value.
func parseConfigSet(args []string) (map[string]string, error) {
	set := make(map[string]string, len(args))
	for i, arg := range args {
		key, value, ok := strings.Cut(arg, "=")
		if !ok && jack.ValidateConfigKey(arg) == nil {
			return nil, usageErrorf("%q is not KEY=VALUE; to set an empty value write %s=", arg, arg)
		} else if !ok {
			// Not echoed: a value typed without its key may be a secret.
			return nil, usageErrorf("argument %d after APP/ENV is not KEY=VALUE", i+1)
		}
		if err := jack.ValidateConfigKey(key); err != nil {
			return nil, usageErrorf("%s", jack.ErrorMessage(err))
		}
		if err := jack.ValidateConfigValue(key, value); err != nil {
			return nil, usageErrorf("%s", jack.ErrorMessage(err))
		}
		if _, dup := set[key]; dup {
			return nil, usageErrorf("config key %s is given twice", key)
		}
		set[key] = value
	}
	return set, nil
}
