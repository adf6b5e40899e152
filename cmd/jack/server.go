package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/jack-paas/jack/internal/router"
	"github.com/jack-paas/jack/internal/server"
)

// newServerCommand is `jack server`: the daemon. It runs until SIGINT or
// SIGTERM, then stops cleanly; containers and the router keep serving.
func newServerCommand(c *cli) *cobra.Command {
	cfg := server.Config{}
	var health healthFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the Jack daemon: API, orchestrator and router",
		Long: `Run the Jack daemon. It keeps its state in --data, runs containers on the
Docker engine, serves the API on --api and starts the router, a process of its
own that serves HTTP on --http and keeps serving when the daemon stops.`,
		Args: argsBetween(0, 0),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			if err := health.apply(&cfg); err != nil {
				return err
			}
			cfg.Logger = slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
			if cfg.DockerHost == "" {
				cfg.DockerHost = os.Getenv("DOCKER_HOST")
			}
			m := server.New(cfg)
			if err := m.Run(ctx); err != nil {
				return err
			}
			<-ctx.Done()
			cfg.Logger.Info("stopping; containers and the router keep running")
			return m.Close()
		}),
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data", "/var/lib/jack", "folder for the database, the admin token and the router's state")
	f.StringVar(&cfg.APIAddr, "api", "127.0.0.1:7070", "address of the API")
	f.StringVar(&cfg.HTTPAddr, "http", ":80", "address the router serves HTTP on")
	router.AddHTTPSFlags(f, &cfg.HTTPSAddr, &cfg.ACME)
	f.StringVar(&cfg.Domain, "domain", "localhost", "suffix of environments' default hosts: ENV.APP.SUFFIX")
	f.StringVar(&cfg.DockerHost, "docker", "", "Docker engine address (default $DOCKER_HOST or the local socket)")
	f.StringVar(&cfg.RegistryAddr, "registry", "", "serve Jack's own image registry here, e.g. 127.0.0.1:5000 (off by default): docker login with a Jack token, docker push HOST/APP:TAG")
	health.register(f, &cfg)
	return cmd
}
