package manifest

import (
	"reflect"
	"testing"

	"github.com/jack-paas/jack"
)

func TestParseManifestReadsStaticEntries(t *testing.T) {
	m, err := Parse("jack.yaml", []byte(`
static:
  - {url: /static/, path: /app/staticfiles}
  - url: /media
    path: /srv/media/
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []jack.StaticEntry{{URL: "/static/", Path: "/app/staticfiles"}, {URL: "/media/", Path: "/srv/media/"}}
	if !reflect.DeepEqual(m.Static, want) {
		t.Fatalf("static = %+v, want %+v", m.Static, want)
	}
	if d := m.WithDefaults(jack.ImageInfo{}); !reflect.DeepEqual(d.Static, want) {
		t.Errorf("WithDefaults dropped static: %+v", d.Static)
	}
}

func TestParseManifestRefusesBadStaticEntries(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"not a list", "static: /app/static\n",
			`jack.yaml:1: static: expected a list of {url, path} entries, got "/app/static"`},
		{"entry not a mapping", "static:\n  - /app/static\n",
			`jack.yaml:2: static[0]: expected a mapping with keys url and path, got "/app/static"`},
		{"unknown key", "static:\n  - {url: /s/, dir: /app}\n",
			`jack.yaml:2: unknown key "dir" in static[0] (known: url, path)`},
		{"no url", "static:\n  - {path: /app/static}\n",
			`jack.yaml:2: static[0].url is missing; give the URL prefix to serve the files at, such as /static/`},
		{"relative url", "static:\n  - {url: static/, path: /app/static}\n",
			`jack.yaml:2: static[0].url "static/" must be a path such as /static/`},
		{"dot dot url", "static:\n  - {url: /a/../b/, path: /app/static}\n",
			`jack.yaml:2: static[0].url "/a/../b/" must be a clean path, without //, . or .. segments`},
		{"query in url", "static:\n  - {url: \"/a?b/\", path: /app/static}\n",
			`jack.yaml:2: static[0].url "/a?b/" may hold only plain path characters`},
		{"no path", "static:\n  - {url: /s/}\n",
			`jack.yaml:2: static[0].path is missing; give the folder inside the image, such as /app/staticfiles`},
		{"relative path", "static:\n  - {url: /s/, path: app/static}\n",
			`jack.yaml:2: static[0].path "app/static" must be an absolute path inside the image`},
		{"escaping path", "static:\n  - {url: /s/, path: /app/../etc}\n",
			`jack.yaml:2: static[0].path "/app/../etc" must be a clean absolute path, without . or .. segments`},
		{"root path", "static:\n  - {url: /s/, path: /}\n",
			`jack.yaml:2: static[0].path is the image's root; give the folder that holds the static files`},
		{"url twice", "static:\n  - {url: /s/, path: /a}\n  - {url: /s, path: /b}\n",
			`jack.yaml:3: static[1].url /s/ is given twice; give each URL prefix once`},
	} {
		_, err := Parse("jack.yaml", []byte(tc.yaml))
		if err == nil || err.Error() != tc.want || jack.ErrorCode(err) != jack.EINVALID {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}
