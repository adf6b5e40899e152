package main

import (
	"os"
	"testing"

	"github.com/jack-paas/jack/internal/manifest"
)

func TestManifestRunsTwoHealthCheckedWebInstances(t *testing.T) {
	data, err := os.ReadFile("jack.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse("jack.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	web := m.Processes["web"]
	if web == nil || web.Instances != 2 || web.Port != 8080 || web.Health == nil || web.Health.Path != "/health" {
		t.Errorf("web process = %+v; want 2 instances on 8080 checked on /health", web)
	}
}
