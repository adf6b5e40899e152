// Command hello is the example app of Jack's README: a small web app that
// says which version and release of it answered, so that a deploy, a
// rollback or a config change shows in the browser.
//
// It follows the few rules an app needs to be deployed by Jack: it listens
// on $PORT, answers a health check, reads its settings from environment
// variables, and on SIGTERM finishes the requests it is serving before it
// exits, so that no request is dropped when Jack replaces it.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	port := getenv("PORT", "8080")
	greeting := getenv("GREETING", "Hello from Jack!")

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		// Jack sets JACK_VERSION and JACK_RELEASE in every instance.
		fmt.Fprintf(w, "%s version=%s release=%s\n", greeting, os.Getenv("JACK_VERSION"), os.Getenv("JACK_RELEASE"))
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})

	srv := &http.Server{Addr: ":" + port, Handler: mux}
	go func() {
		log.Printf("listening on :%s", port)
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Fatal(err)
		}
	}()

	// Wait for SIGTERM (what Jack sends), then stop taking new connections
	// and let the requests in flight finish.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	<-stop
	log.Print("shutting down")
	if err := srv.Shutdown(context.Background()); err != nil {
		log.Fatal(err)
	}
}

// getenv returns the environment variable key, or def when it is unset.
func getenv(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
