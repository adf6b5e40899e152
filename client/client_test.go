package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/client"
)

func TestAnswersWithoutAnErrorBodyGetTheCodeOfTheirStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream down", http.StatusServiceUnavailable) // as a proxy would
	}))
	defer srv.Close()
	_, err := client.New(srv.URL, "t").ListApps(context.Background())
	var jerr *jack.Error
	if !errors.As(err, &jerr) || jerr.Code != jack.EUNAVAILABLE || jerr.Message != "API answered 503 Service Unavailable: upstream down" {
		t.Fatalf("err = %#v", err)
	}
}

func TestAStreamThatEndsWithAnErrorLineReturnsIt(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Write([]byte(`{"id":7,"state":"running","steps":[]}` + "\n"))
		w.Write([]byte(`{"error":{"code":"unavailable","message":"the engine does not answer"}}` + "\n"))
	}))
	defer srv.Close()
	var seen int
	d, err := client.New(srv.URL, "t").FollowDeployment(context.Background(), 7, func(*jack.Deployment) { seen++ })
	if jack.ErrorCode(err) != jack.EUNAVAILABLE || jack.ErrorMessage(err) != "the engine does not answer" {
		t.Fatalf("err = %v", err)
	}
	if seen != 1 || d == nil || d.ID != 7 {
		t.Fatalf("saw %d states, last %+v", seen, d)
	}
}

func TestAStreamThatEndsBeforeTheDeploymentIsDoneIsAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"id":7,"state":"running","steps":[]}` + "\n"))
	}))
	defer srv.Close()
	_, err := client.New(srv.URL, "t").FollowDeployment(context.Background(), 7, nil)
	if jack.ErrorCode(err) != jack.EUNAVAILABLE {
		t.Fatalf("err = %v, want unavailable", err)
	}
}
