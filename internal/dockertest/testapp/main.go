// Command testapp is the configurable app Jack's tests deploy. One static
// binary, built into an image FROM scratch by dockertest.BuildGoImage, plays
// every part a test needs: a healthy or failing web app, one that crashes,
// starts slowly, ignores SIGTERM or serves slow requests, and a worker.
//
// Web mode (the default) listens on $PORT (8080) and answers:
//
//	GET /             version=$APP_VERSION release=$JACK_RELEASE process=$JACK_PROCESS instance=$HOSTNAME
//	GET /health       200 ok, or 500 when FAIL_HEALTH=1 or after /sick?on=1
//	GET /sick?on=1    makes /health fail from now on (on=0 heals it)
//	GET /code/503     answers with that status (for 5xx-share tests)
//	GET /env/KEY      the value of $KEY, 404 if unset
//	GET /sleep?d=500ms  prints "sleeping 500ms", answers 200 after d (for drain tests)
//	GET /exit?code=3  answers, then exits with code (for crash tests)
//	GET /log?msg=M[&stream=stderr]  writes M as a line to stdout (or stderr)
//	POST /write[?stream=stderr]     writes the body as it is to stdout (or stderr)
//	GET /alloc?mb=64  allocates and holds 64 MiB more (for memory limit tests)
//
// Knobs: START_DELAY (wait before listening), EXIT_AT_START=N (print
// "boom: failing on purpose" to stderr and exit N), EXIT_AFTER=DUR (exit 3
// that long after starting: a crash loop), IGNORE_SIGTERM=1. On
// SIGTERM it stops listening, finishes in-flight requests and exits 0.
//
// With the argument "worker" it does not listen: it prints "working N" every
// second and exits 0 on SIGTERM.
//
// With the arguments "spew N" it prints the numbered lines 1 to N as fast as
// it can (SPEW_RATE=R: R lines a second; SPEW_PAD=B: each line padded with
// B more bytes), then waits for SIGTERM, or exits 0 when SPEW_EXIT=1.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if code := os.Getenv("EXIT_AT_START"); code != "" {
		fmt.Fprintln(os.Stderr, "boom: failing on purpose")
		n, _ := strconv.Atoi(code)
		os.Exit(n)
	}
	if d, err := time.ParseDuration(os.Getenv("EXIT_AFTER")); err == nil {
		time.AfterFunc(d, func() {
			fmt.Fprintln(os.Stderr, "crashing on purpose after", d)
			os.Exit(3)
		})
	}
	terms := make(chan os.Signal, 1)
	if os.Getenv("IGNORE_SIGTERM") == "1" {
		signal.Ignore(syscall.SIGTERM)
	} else {
		signal.Notify(terms, syscall.SIGTERM, syscall.SIGINT)
	}
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		work(terms)
		return
	}
	if len(os.Args) > 2 && os.Args[1] == "spew" {
		n, _ := strconv.Atoi(os.Args[2])
		spew(n)
		if os.Getenv("SPEW_EXIT") != "1" {
			<-terms
		}
		return
	}
	if err := serve(terms); err != nil {
		fmt.Fprintln(os.Stderr, "testapp:", err)
		os.Exit(1)
	}
}

// work prints a line every second until SIGTERM.
func work(terms <-chan os.Signal) {
	fmt.Println("worker started")
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-tick.C:
			fmt.Println("working", n)
		case <-terms:
			fmt.Println("worker stopping")
			return
		}
	}
}

// serve answers HTTP until SIGTERM, then shuts down gracefully.
func serve(terms <-chan os.Signal) error {
	if d, err := time.ParseDuration(os.Getenv("START_DELAY")); err == nil {
		time.Sleep(d)
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	l, err := net.Listen("tcp", ":"+port)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: routes()}
	failed := make(chan error, 1)
	go func() { failed <- srv.Serve(l) }()
	fmt.Println("listening on :" + port)
	select {
	case err := <-failed:
		return err
	case <-terms:
	}
	fmt.Println("shutting down")
	if err := srv.Shutdown(context.Background()); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Println("stopped")
	return nil
}

func routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "version=%s release=%s process=%s instance=%s\n",
			os.Getenv("APP_VERSION"), os.Getenv("JACK_RELEASE"), os.Getenv("JACK_PROCESS"), os.Getenv("HOSTNAME"))
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		if os.Getenv("FAIL_HEALTH") == "1" || sick.Load() {
			http.Error(w, "failing on purpose", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("GET /sick", func(w http.ResponseWriter, r *http.Request) {
		sick.Store(r.URL.Query().Get("on") != "0")
		fmt.Fprintf(w, "sick=%v\n", sick.Load())
	})
	mux.HandleFunc("GET /code/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.PathValue("code"))
		if err != nil || code < 200 || code > 599 {
			http.Error(w, "code must be a status from 200 to 599", http.StatusBadRequest)
			return
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, "answered %d on purpose\n", code)
	})
	mux.HandleFunc("GET /env/{key}", func(w http.ResponseWriter, r *http.Request) {
		v, ok := os.LookupEnv(r.PathValue("key"))
		if !ok {
			http.Error(w, "not set", http.StatusNotFound)
			return
		}
		fmt.Fprint(w, v)
	})
	mux.HandleFunc("GET /sleep", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("d"))
		if err != nil {
			http.Error(w, "d must be a duration such as 500ms", http.StatusBadRequest)
			return
		}
		fmt.Println("sleeping", d)
		time.Sleep(d)
		fmt.Fprintf(w, "slept %s\n", d)
	})
	mux.HandleFunc("GET /exit", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		body := fmt.Sprintf("exiting with %d\n", code)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Header().Set("Connection", "close")
		fmt.Fprint(w, body)
		http.NewResponseController(w).Flush()
		fmt.Fprint(os.Stderr, body)
		os.Exit(code)
	})
	mux.HandleFunc("GET /log", func(w http.ResponseWriter, r *http.Request) {
		out := os.Stdout
		if r.URL.Query().Get("stream") == "stderr" {
			out = os.Stderr
		}
		fmt.Fprintln(out, r.URL.Query().Get("msg"))
	})
	mux.HandleFunc("POST /write", func(w http.ResponseWriter, r *http.Request) {
		out := os.Stdout
		if r.URL.Query().Get("stream") == "stderr" {
			out = os.Stderr
		}
		io.Copy(out, r.Body)
	})
	mux.HandleFunc("GET /alloc", func(w http.ResponseWriter, r *http.Request) {
		mb, _ := strconv.Atoi(r.URL.Query().Get("mb"))
		block := make([]byte, mb<<20)
		for i := range block {
			block[i] = byte(i) // touch every byte so the memory is really used
		}
		held = append(held, block)
		fmt.Fprintf(w, "holding %d MiB more\n", mb)
	})
	return mux
}

// held keeps what /alloc allocated.
var held [][]byte

// sick makes /health fail, set by /sick.
var sick atomic.Bool
