package manifest

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

func TestParseManifestReleaseCronVolumes(t *testing.T) {
	m, err := Parse("jack.yaml", []byte(`
processes:
  web: {command: gunicorn app}
release: python3 manage.py migrate --noinput
cron:
  - {name: clearsessions, schedule: "0 3 * * *", command: python3 manage.py clearsessions}
  - name: report
    schedule: "@every 10m"
    command: [sh, -c, "report | mail"]
    timeout: 5m
    timezone: Europe/Paris
    overlap: true
volumes:
  data: /data
  media: /app/media
deploy: {release_timeout: 2m}
`))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"python3", "manage.py", "migrate", "--noinput"}; !reflect.DeepEqual(m.Release, want) {
		t.Errorf("release = %q", m.Release)
	}
	want := []*jack.CronJob{
		{Name: "clearsessions", Schedule: "0 3 * * *", Command: []string{"python3", "manage.py", "clearsessions"}},
		{Name: "report", Schedule: "@every 10m", Command: []string{"sh", "-c", "report | mail"}, Timeout: jack.Duration(5 * time.Minute), Timezone: "Europe/Paris", Overlap: true},
	}
	if !reflect.DeepEqual(m.Cron, want) {
		t.Errorf("cron = %+v %+v", m.Cron[0], m.Cron[1])
	}
	if !reflect.DeepEqual(m.Volumes, map[string]string{"data": "/data", "media": "/app/media"}) {
		t.Errorf("volumes = %v", m.Volumes)
	}
	if m.Deploy.ReleaseTimeout != jack.Duration(2*time.Minute) {
		t.Errorf("release_timeout = %s", m.Deploy.ReleaseTimeout.D())
	}
	if d := (&jack.Manifest{}).WithDefaults(jack.ImageInfo{}).Deploy.ReleaseTimeout; d != jack.Duration(jack.DefaultReleaseTimeout) {
		t.Errorf("default release timeout %s", d.D())
	}
}

func TestParseManifestReleaseCronVolumesErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"release needs a shell", "release: migrate && seed\n",
			"jack.yaml:1: release: & needs a shell"},
		{"empty release", "release: []\n", "jack.yaml:1: release is empty"},
		{"cron not a list", "cron: {a: b}\n", "jack.yaml:1: cron: expected a list of jobs"},
		{"cron schedule does not parse", "cron:\n  - name: x\n    schedule: every day\n    command: date\n",
			`jack.yaml:3: cron[0].schedule: schedule "every day" has 2 fields; write 5 (minute hour day month weekday), such as "0 3 * * *", or @every 10m`},
		{"cron minute out of range", "cron:\n  - {name: x, schedule: \"60 * * * *\", command: date}\n",
			`jack.yaml:2: cron[0].schedule: schedule "60 * * * *": minute field "60" is out of range (0-59)`},
		{"cron bad name in field", "cron:\n  - {name: x, schedule: \"0 0 * foo *\", command: date}\n",
			`month field "foo" is not a number or a name such as feb`},
		{"cron @every too short", "cron:\n  - {name: x, schedule: \"@every 10ms\", command: date}\n",
			"@every takes a duration of at least 1s"},
		{"cron unknown zone", "cron:\n  - {name: x, schedule: \"@hourly\", command: date, timezone: Mars/Olympus}\n",
			`timezone "Mars/Olympus" is not known`},
		{"cron without a command", "cron:\n  - {name: x, schedule: \"@hourly\"}\n",
			"jack.yaml:2: cron[0].command is missing"},
		{"cron duplicate names", "cron:\n  - {name: x, schedule: \"@hourly\", command: date}\n  - {name: x, schedule: \"@daily\", command: date}\n",
			`jack.yaml:3: cron[1].name: "x" is used twice`},
		{"cron unknown key", "cron:\n  - {name: x, schedule: \"@hourly\", command: date, every: 1}\n",
			`unknown key "every" in cron[0] (known: name, schedule, command, timeout, timezone, overlap)`},
		{"volume path not absolute", "volumes:\n  data: data\n",
			`jack.yaml:2: volumes.data: path "data" is not absolute; give the path in the container, such as /data`},
		{"volume name not valid", "volumes:\n  Data_1: /data\n", `volume name "Data_1" is not valid`},
		{"volume path twice", "volumes:\n  a: /data\n  b: /data/\n", "jack.yaml:3: volumes.b: path /data/ is taken by volume a already"},
		{"volume over root", "volumes:\n  a: /\n", "a volume can't be mounted over /"},
		{"release timeout", "deploy: {release_timeout: soon}\n", "deploy.release_timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse("jack.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("parsed into %+v, want error %q", m, tc.want)
			}
			if jack.ErrorCode(err) != jack.EINVALID || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error:\n got %s\nwant %s", err, tc.want)
			}
		})
	}
}
