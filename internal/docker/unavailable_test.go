package docker

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
)

func TestEveryMethodSaysWhenTheEngineDoesNotAnswer(t *testing.T) {
	host := "unix://" + filepath.Join(t.TempDir(), "no-docker.sock")
	r, err := New(host, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	spec := webSpec("notes:v1", 1)
	calls := map[string]func() error{
		"InspectImage": func() error { _, err := r.InspectImage(ctx, "notes:v1"); return err },
		"Start":        func() error { _, err := r.Start(ctx, spec); return err },
		"Stop":         func() error { return r.Stop(ctx, "abc", time.Second) },
		"List":         func() error { _, err := r.List(ctx, "", ""); return err },
		"Inspect":      func() error { _, err := r.Inspect(ctx, "abc"); return err },
		"Logs":         func() error { _, err := r.Logs(ctx, "abc", 10); return err },
	}
	for name, call := range calls {
		err := call()
		if jack.ErrorCode(err) != jack.EUNAVAILABLE {
			t.Errorf("%s = %v (%s); want EUNAVAILABLE", name, err, jack.ErrorCode(err))
			continue
		}
		msg := jack.ErrorMessage(err)
		if msg != "the Docker engine at "+host+" does not answer (no such socket); start dockerd" {
			t.Errorf("%s says %q", name, msg)
		}
	}

	watchCtx, cancel := context.WithCancel(ctx)
	events := r.Watch(watchCtx)
	cancel()
	for range events {
	}
}

func TestAnEngineThatRefusesConnectionsIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := "tcp://" + l.Addr().String()
	l.Close()
	r, err := New(host, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = r.List(context.Background(), "", "")
	if want := "the Docker engine at " + host + " does not answer (cannot connect); start dockerd"; jack.ErrorCode(err) != jack.EUNAVAILABLE || jack.ErrorMessage(err) != want {
		t.Errorf("List = %v (%s); want EUNAVAILABLE %q", err, jack.ErrorCode(err), want)
	}
}

func TestABadHostIsInvalid(t *testing.T) {
	_, err := New("nonsense://", "", slog.New(slog.DiscardHandler))
	if jack.ErrorCode(err) != jack.EINVALID {
		t.Errorf("New(nonsense://) = %v (%s); want EINVALID", err, jack.ErrorCode(err))
	}
}
