package manifest

import (
	"reflect"
	"strings"
	"testing"

	"github.com/jack-paas/jack"
)

func TestParseProcfile(t *testing.T) {
	m, err := ParseFile("app/Procfile", []byte(`# processes
web: gunicorn notesite.wsgi --bind 0.0.0.0:$PORT
worker:   celery -A notesite worker

release: python3 manage.py migrate --noinput
clock: python3 clock.py
`))
	if err != nil {
		t.Fatal(err)
	}
	want := &jack.Manifest{
		Processes: map[string]*jack.Process{
			"web":    {Command: []string{"/bin/sh", "-c", "gunicorn notesite.wsgi --bind 0.0.0.0:$PORT"}},
			"worker": {Command: []string{"celery", "-A", "notesite", "worker"}},
			"clock":  {Command: []string{"python3", "clock.py"}},
		},
		Release: []string{"python3", "manage.py", "migrate", "--noinput"},
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got %+v\nwant %+v", m, want)
	}
	for _, tc := range []struct{ procfile, want string }{
		{"web: a\nweb: b\n", "Procfile:2: process web is defined twice (first on line 1); keep one line per name"},
		{"web a\n", `Procfile:1: expected "NAME: COMMAND", such as "web: gunicorn app:wsgi"`},
		{"web:\n", "Procfile:1: web has no command"},
		{"Web_1: x\n", `Procfile:1: process name "Web_1" is not valid`},
		{"web: echo 'open\n", "Procfile:1: web: the command has a single quote that is not closed"},
	} {
		if _, err := ParseFile("Procfile", []byte(tc.procfile)); err == nil || err.Error() != tc.want && !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.procfile, err, tc.want)
		}
	}
}
