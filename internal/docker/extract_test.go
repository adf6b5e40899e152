package docker

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type entry struct {
	name, body, link string
	kind             byte
}

func tarOf(t *testing.T, entries ...entry) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: e.kind, Linkname: e.link}
		if e.kind == 0 {
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e.body))
	}
	tw.Close()
	return &buf
}

func TestExtractTarRefusesEverythingThatLeadsOut(t *testing.T) {
	for name, entries := range map[string][]entry{
		"dot dot":               {{name: "../evil", body: "x"}},
		"deep dot dot":          {{name: "./a/../../evil", body: "x"}},
		"link out":              {{name: "x", kind: tar.TypeSymlink, link: "../../etc/passwd"}},
		"absolute link out":     {{name: "x", kind: tar.TypeSymlink, link: "/etc/passwd"}},
		"hard link out":         {{name: "x", kind: tar.TypeLink, link: "../outside"}},
		"write through a link":  {{name: "d", kind: tar.TypeSymlink, link: "."}, {name: "d/f", body: "x"}},
		"write through a link2": {{name: "sub", kind: tar.TypeDir}, {name: "sub/up", kind: tar.TypeSymlink, link: ".."}, {name: "sub/up/f", body: "x"}},
	} {
		parent := t.TempDir()
		dest := filepath.Join(parent, "dest")
		os.Mkdir(dest, 0o755)
		err := extractTar(tarOf(t, entries...), dest, "/app/static", extractLimits{})
		if err == nil {
			t.Errorf("%s: extracted without error", name)
		}
		if _, err := os.Stat(filepath.Join(parent, "evil")); err == nil {
			t.Errorf("%s: wrote outside the folder", name)
		}
	}
}

func TestExtractTarAbsoluteNamesStayInside(t *testing.T) {
	dest := t.TempDir()
	err := extractTar(tarOf(t, entry{name: "/etc/cron.d/x", body: "inside"}), dest, "/app/static", extractLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dest, "etc/cron.d/x")); err != nil || string(got) != "inside" {
		t.Errorf("got %q, %v; want the file under the folder", got, err)
	}
}

func TestExtractTarEnforcesLimits(t *testing.T) {
	err := extractTar(tarOf(t, entry{name: "a", body: "12345"}, entry{name: "b", body: "67890"}), t.TempDir(), "/s", extractLimits{Bytes: 8})
	if err == nil || !strings.Contains(err.Error(), "holds more than") {
		t.Errorf("byte limit: %v", err)
	}
	err = extractTar(tarOf(t, entry{name: "a"}, entry{name: "b"}, entry{name: "c"}), t.TempDir(), "/s", extractLimits{Files: 2})
	if err == nil || !strings.Contains(err.Error(), "more than 2 files") {
		t.Errorf("file limit: %v", err)
	}
}
