package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/client"
	"github.com/jack-paas/jack/internal/dockertest"
)

// djangoBase is the Debian image with python3-django and gunicorn that
// e2e/django/base-image.sh builds once per machine.
const djangoBase = "jack-test/django-base:bookworm-1"

var baseOnce sync.Once
var baseErr error

// ensureDjangoBase builds the base image when the engine does not have it.
func ensureDjangoBase(t testing.TB) {
	t.Helper()
	baseOnce.Do(func() {
		cmd := exec.Command("bash", "django/base-image.sh", strings.TrimPrefix(djangoBase, "jack-test/django-base:"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			baseErr = fmt.Errorf("build %s: %v\n%s", djangoBase, err, out)
		}
	})
	if baseErr != nil {
		t.Fatal(baseErr)
	}
}

// djangoImages builds the test site's versions: v1 (a notes table), v2
// (adds a column that its pages read, with the migration that adds it) and
// v3 (v2 with a migration that fails). Each carries django/jack.yaml as
// /jack.yaml.
func djangoImages(t testing.TB, cli *client.Client) {
	t.Helper()
	ensureDjangoBase(t)
	v2 := []string{"COPY v2/models.py /app/notes/models.py", "COPY v2/0002_note_title.py /app/notes/migrations/"}
	buildDjango(t, cli, "jack-e2e-django:v1", "ENV APP_VERSION=v1")
	buildDjango(t, cli, "jack-e2e-django:v2", append([]string{"ENV APP_VERSION=v2"}, v2...)...)
	buildDjango(t, cli, "jack-e2e-django:v3", append(append([]string{"ENV APP_VERSION=v3"}, v2...), "COPY v3/0003_broken.py /app/notes/migrations/")...)
}

// buildDjango builds e2e/django into an image on the base, with extra
// Dockerfile lines.
func buildDjango(t testing.TB, cli *client.Client, tag string, extra ...string) {
	t.Helper()
	dockerfile := "FROM " + djangoBase + "\nCOPY app /app\nCOPY jack.yaml /jack.yaml\nWORKDIR /app\nEXPOSE 8000\n" + strings.Join(extra, "\n") + "\n"
	var ctxTar bytes.Buffer
	tw := tar.NewWriter(&ctxTar)
	add := func(name string, body []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))})
		tw.Write(body)
	}
	add("Dockerfile", []byte(dockerfile))
	err := filepath.WalkDir("django", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, "__pycache__") {
			return err
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		add(strings.TrimPrefix(p, "django/"), body)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tw.Close()
	resp, err := cli.ImageBuild(context.Background(), &ctxTar, build.ImageBuildOptions{
		Tags: []string{tag}, Labels: map[string]string{dockertest.LabelTest: "true"},
		Remove: true, ForceRemove: true, Version: build.BuilderV1,
	})
	if err != nil {
		t.Fatalf("build %s: %v", tag, err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	var log strings.Builder
	for {
		var m struct{ Stream, Error string }
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("build %s: %v", tag, err)
		}
		log.WriteString(m.Stream)
		if m.Error != "" {
			t.Fatalf("build %s: %s\n%s", tag, m.Error, log.String())
		}
	}
}
