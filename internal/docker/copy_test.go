package docker

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/dockertest"
)

func TestCopyFromImageCopiesTheFolderWithTimesAndInnerLinks(t *testing.T) {
	r, cli := newRuntime(t)
	mod := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	image := dockertest.BuildGoImageWithFiles(t, cli, dockertest.TestApp, "jack-test/static:copy", []dockertest.ImageFile{
		{Name: "/app/static/css/app.3f9a2c1e.css", Body: "body{}", ModTime: mod},
		{Name: "/app/static/index.html", Body: "<h1>hi</h1>", ModTime: mod},
		{Name: "/app/static/latest.css", Link: "css/app.3f9a2c1e.css"},
		{Name: "/app/static/abs.css", Link: "/app/static/css/app.3f9a2c1e.css"},
		{Name: "/app/public", Link: "/app/static"},
		{Name: "/app/escape/ok.txt", Body: "ok"},
		{Name: "/app/escape/passwd", Link: "/etc/passwd"},
		{Name: "/app/file.txt", Body: "just a file"},
	})
	ctx := context.Background()

	dest := filepath.Join(t.TempDir(), "out")
	if err := r.CopyFromImage(ctx, image, "/app/static", dest); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"css/app.3f9a2c1e.css": "body{}", "index.html": "<h1>hi</h1>", "latest.css": "body{}", "abs.css": "body{}",
	} {
		got, err := os.ReadFile(filepath.Join(dest, name))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
	if fi, err := os.Stat(filepath.Join(dest, "index.html")); err != nil || !fi.ModTime().Equal(mod) {
		t.Errorf("index.html modified %v, %v; want the image's %v", fi.ModTime(), err, mod)
	}
	if link, err := os.Readlink(filepath.Join(dest, "abs.css")); err != nil || filepath.IsAbs(link) {
		t.Errorf("abs.css links to %q, %v; want a relative link inside the folder", link, err)
	}

	// A link at the top is followed to its folder.
	viaLink := filepath.Join(t.TempDir(), "out")
	if err := r.CopyFromImage(ctx, image, "/app/public/", viaLink); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(viaLink, "index.html")); err != nil || string(got) != "<h1>hi</h1>" {
		t.Errorf("through /app/public: %q, %v", got, err)
	}

	for path, want := range map[string]string{
		"/app/escape":   "links to /etc/passwd, outside the folder",
		"/app/missing":  "the image has no /app/missing",
		"/app/file.txt": "is a file, not a folder",
	} {
		dest := filepath.Join(t.TempDir(), "out")
		err := r.CopyFromImage(ctx, image, path, dest)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error saying %q", path, err, want)
		}
		if jack.ErrorCode(err) == jack.EINTERNAL {
			t.Errorf("%s: internal error %v; want one the user can act on", path, err)
		}
		if _, statErr := os.Stat(dest); !os.IsNotExist(statErr) {
			t.Errorf("%s: a failed copy left %s behind", path, dest)
		}
	}
	if cs, err := r.List(ctx, "", ""); err != nil || len(cs) != 0 {
		t.Errorf("copying left containers: %v, %v", cs, err)
	}
}
