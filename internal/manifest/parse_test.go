package manifest

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

func dur(d time.Duration) jack.Duration { return jack.Duration(d) }

func TestParseManifest(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want *jack.Manifest
	}{
		{"empty file", "", &jack.Manifest{}},
		{"only comments", "# nothing yet\n\n", &jack.Manifest{}},
		{"empty document", "---\n", &jack.Manifest{}},
		{"empty documents after", "deploy: {batch: 2}\n---\n---\n", &jack.Manifest{Deploy: jack.DeployPolicy{Batch: 2}}},
		{"empty keys", "processes:\ndeploy:\n", &jack.Manifest{}},
		{
			name: "everything",
			yaml: `
processes:
  web:
    command: gunicorn notesite.wsgi --bind 0.0.0.0:8000   # a comment
    port: 8000
    instances: 2
    health: {path: /health/, interval: 2s, timeout: 5s}
    memory: 512m
    cpus: 1.0
    stop_timeout: 20s
  worker:
    command: celery -A notesite worker
deploy: {strategy: rolling, batch: 2, drain: 30s, timeout: 10m}
`,
			want: &jack.Manifest{
				Processes: map[string]*jack.Process{
					"web": {
						Command:   []string{"gunicorn", "notesite.wsgi", "--bind", "0.0.0.0:8000"},
						Port:      8000,
						Instances: 2,
						Health:    &jack.HealthCheck{Path: "/health/", Interval: dur(2 * time.Second), Timeout: dur(5 * time.Second)},
						Memory:    512 << 20,
						CPUs:      1,
						Stop:      dur(20 * time.Second),
					},
					"worker": {Command: []string{"celery", "-A", "notesite", "worker"}},
				},
				Deploy: jack.DeployPolicy{Strategy: jack.StrategyRolling, Batch: 2, Drain: dur(30 * time.Second), Timeout: dur(10 * time.Minute)},
			},
		},
		{
			name: "command as a list",
			yaml: "processes:\n  web:\n    command: [python3, -m, http.server, 8000, 'a b']\n",
			want: &jack.Manifest{Processes: map[string]*jack.Process{"web": {Command: []string{"python3", "-m", "http.server", "8000", "a b"}}}},
		},
		{
			name: "command as a block list",
			yaml: "processes:\n  web:\n    command:\n      - sh\n      - -c\n      - exec gunicorn --bind 0.0.0.0:$PORT\n",
			want: &jack.Manifest{Processes: map[string]*jack.Process{"web": {Command: []string{"sh", "-c", "exec gunicorn --bind 0.0.0.0:$PORT"}}}},
		},
		{
			name: "command with quotes",
			yaml: `processes:
  web:
    command: python3 -c "print('hello world')" --name 'it''s' \$HOME
`,
			want: &jack.Manifest{Processes: map[string]*jack.Process{"web": {Command: []string{"python3", "-c", "print('hello world')", "--name", "its", "$HOME"}}}},
		},
		{
			name: "folded multi-line command",
			yaml: "processes:\n  web:\n    command: >\n      gunicorn app\n      --workers 3\n",
			want: &jack.Manifest{Processes: map[string]*jack.Process{"web": {Command: []string{"gunicorn", "app", "--workers", "3"}}}},
		},
		{
			name: "health as a bare path",
			yaml: "processes:\n  web:\n    health: /up\n",
			want: &jack.Manifest{Processes: map[string]*jack.Process{"web": {Health: &jack.HealthCheck{Path: "/up"}}}},
		},
		{
			name: "memory and cpus forms",
			yaml: "processes:\n  a: {memory: 1g, cpus: 2}\n  b: {memory: 256Mi, cpus: 0.5}\n  c: {memory: 1.5g}\n  d: {memory: 104857600}\n  e: {memory: 64MB}\n",
			want: &jack.Manifest{Processes: map[string]*jack.Process{
				"a": {Memory: 1 << 30, CPUs: 2},
				"b": {Memory: 256 << 20, CPUs: 0.5},
				"c": {Memory: 3 << 29},
				"d": {Memory: 100 << 20},
				"e": {Memory: 64 << 20},
			}},
		},
		{
			name: "a process with nothing set",
			yaml: "processes:\n  web:\n  clock: {}\n",
			want: &jack.Manifest{Processes: map[string]*jack.Process{"web": {}, "clock": {}}},
		},
		{
			name: "anchors and aliases",
			yaml: "processes:\n  web: &base\n    memory: 512m\n    instances: 2\n  worker: *base\n",
			want: &jack.Manifest{Processes: map[string]*jack.Process{"web": {Memory: 512 << 20, Instances: 2}, "worker": {Memory: 512 << 20, Instances: 2}}},
		},
		{
			name: "quoted numbers",
			yaml: "processes:\n  web: {port: \"8000\", instances: '3'}\n",
			want: &jack.Manifest{Processes: map[string]*jack.Process{"web": {Port: 8000, Instances: 3}}},
		},
		{
			name: "other deploy strategies",
			yaml: "deploy:\n  strategy: all-at-once\n",
			want: &jack.Manifest{Deploy: jack.DeployPolicy{Strategy: jack.StrategyAllAtOnce}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse("jack.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %s\nwant %s", dump(got), dump(tc.want))
			}
		})
	}
}

// dump shows a manifest in errors, pointers followed.
func dump(m *jack.Manifest) string {
	b, err := json.Marshal(m)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func TestParseManifest_Errors(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want string
	}{
		// The document.
		{"not a mapping", "- web\n- worker\n",
			`jack.yaml:1: expected a mapping with keys such as processes and deploy, got a list`},
		{"a bare string", "web\n",
			`jack.yaml:1: expected a mapping with keys such as processes and deploy, got "web"`},
		{"unclosed brace", "processes:\n  web: {port: 80\n",
			`jack.yaml:2: did not find expected ',' or '}'`},
		{"error after a multi-line list", "processes:\n  web:\n    command: [a,\n      b]\n    port: 80: 81\n",
			`jack.yaml:5: mapping values are not allowed in this context`},
		{"unclosed quote", "processes:\n  web:\n    command: 'gunicorn\n",
			`jack.yaml:3: found unexpected end of stream`},
		{"bad indentation", "processes:\n  web:\n    port: 80\n   instances: 2\n",
			`jack.yaml:4: did not find expected key`},
		{"tab indentation", "processes:\n\tweb: {}\n",
			`jack.yaml:2: found character that cannot start any token; indent with spaces, since YAML does not allow tabs`},
		{"two documents", "processes: {}\n---\ndeploy: {}\n",
			`jack.yaml:2: a second YAML document begins here; keep the manifest in one`},
		{"repeated key", "processes:\n  web:\n    port: 80\n    port: 81\n",
			`jack.yaml:4: key "port" appears twice in processes.web (first on line 3)`},
		{"repeated process", "processes:\n  web: {}\n  web: {}\n",
			`jack.yaml:3: key "web" appears twice in processes (first on line 2)`},
		{"key that is not a name", "? [a, b]\n: c\n",
			`jack.yaml:1: the manifest: expected a name as key, got a list`},

		// Keys.
		{"unknown top-level key", "processes: {}\nproceses: {}\n",
			`jack.yaml:2: unknown key "proceses" in the manifest (known: processes, deploy, release, static, cron, volumes)`},
		{"unknown process key", "processes:\n  web:\n    port: 80\n    comand: gunicorn\n",
			`jack.yaml:4: unknown key "comand" in processes.web (known: command, port, instances, health, memory, cpus, stop_timeout)`},
		{"unknown health key", "processes:\n  web:\n    health: {path: /, every: 2s}\n",
			`jack.yaml:3: unknown key "every" in processes.web.health (known: path, interval, timeout)`},
		{"unknown deploy key", "deploy:\n  stratgy: rolling\n",
			`jack.yaml:2: unknown key "stratgy" in deploy (known: strategy, batch, drain, timeout, release_timeout)`},
		{"later key below the top is just unknown", "processes:\n  web:\n    release: x\n",
			`jack.yaml:3: unknown key "release" in processes.web (known: command, port, instances, health, memory, cpus, stop_timeout)`},

		// Shapes and types.
		{"processes as a list", "processes:\n  - web\n",
			`jack.yaml:2: processes: expected a mapping of process names, such as web, got a list`},
		{"process as a string", "processes:\n  web: gunicorn app\n",
			`jack.yaml:2: processes.web: expected a mapping with keys such as command and port, got "gunicorn app"`},
		{"deploy as a string", "deploy: rolling\n",
			`jack.yaml:1: deploy: expected a mapping with keys such as strategy and drain, got "rolling"`},
		{"port not a number", "processes:\n  web:\n    port: abc\n",
			`jack.yaml:3: processes.web.port: expected a number, got "abc"`},
		{"port a fraction", "processes:\n  web:\n    port: 80.5\n",
			`jack.yaml:3: processes.web.port: expected a whole number, got 80.5`},
		{"port huge", "processes:\n  web:\n    port: 99999999999\n",
			`jack.yaml:3: processes.web.port: 99999999999 is out of range`},
		{"instances a list", "processes:\n  web:\n    instances: [1, 2]\n",
			`jack.yaml:3: processes.web.instances: expected a number, got a list`},
		{"cpus not a number", "processes:\n  web: {cpus: lots}\n",
			`jack.yaml:2: processes.web.cpus: expected a number, got "lots"`},
		{"cpus not finite", "processes:\n  web: {cpus: NaN}\n",
			`jack.yaml:2: processes.web.cpus: expected a number, got "NaN"`},
		{"memory unit", "processes:\n  web:\n    memory: 512x\n",
			`jack.yaml:3: processes.web.memory: "512x" is not a size; write one like 512m or 1g`},
		{"memory fraction of a byte", "processes:\n  web:\n    memory: 1.5\n",
			`jack.yaml:3: processes.web.memory: "1.5" is not a whole number of bytes; write one like 512m or 1g`},
		{"memory a mapping", "processes:\n  web:\n    memory: {limit: 1g}\n",
			`jack.yaml:3: processes.web.memory: expected a size such as 512m, got a mapping`},
		{"health a list", "processes:\n  web:\n    health: [/]\n",
			`jack.yaml:3: processes.web.health: expected a path such as /health or a mapping with keys path, interval and timeout, got a list`},
		{"health path a mapping", "processes:\n  web:\n    health: {path: {a: b}}\n",
			`jack.yaml:3: processes.web.health.path: expected a string, got a mapping`},
		{"strategy a list", "deploy: {strategy: [rolling]}\n",
			`jack.yaml:1: deploy.strategy: expected a string, got a list`},

		// Durations.
		{"drain", "processes: {}\ndeploy:\n  strategy: rolling\n  drain: 30x\n",
			`jack.yaml:4: deploy.drain: "30x" is not a duration; write one like 30s, 2m or 1h`},
		{"bare number duration", "deploy:\n  timeout: 600\n",
			`jack.yaml:2: deploy.timeout: "600" is not a duration; write one like 30s, 2m or 1h`},
		{"negative duration", "processes:\n  web:\n    stop_timeout: -5s\n",
			`jack.yaml:3: processes.web.stop_timeout: "-5s" is negative; give a positive duration like 30s`},
		{"health interval", "processes:\n  web:\n    health:\n      interval: often\n",
			`jack.yaml:4: processes.web.health.interval: "often" is not a duration; write one like 30s, 2m or 1h`},
		{"duration a list", "deploy: {drain: [1s]}\n",
			`jack.yaml:1: deploy.drain: expected a duration such as 30s, got a list`},

		// Commands.
		{"command empty", "processes:\n  web:\n    command: ''\n",
			`jack.yaml:3: processes.web.command is empty; remove it to run the image's own command`},
		{"command empty list", "processes:\n  web:\n    command: []\n",
			`jack.yaml:3: processes.web.command is empty; remove it to run the image's own command`},
		{"command list of lists", "processes:\n  web:\n    command:\n      - gunicorn\n      - [a]\n",
			`jack.yaml:5: processes.web.command[1]: expected a string, got a list`},
		{"command a mapping", "processes:\n  web:\n    command: {run: x}\n",
			`jack.yaml:3: processes.web.command: expected a string or a list of strings, got a mapping`},
		{"command open quote", "processes:\n  web:\n    command: echo \"hello\n",
			`jack.yaml:3: processes.web.command: has a double quote that is not closed`},
		{"command needs a shell", "processes:\n  worker:\n    command: celery worker && echo done\n",
			`jack.yaml:3: processes.worker.command: & needs a shell, and Jack runs the command without one; write it as a list such as [sh, -c, "..."], or escape it with a backslash`},
		{"command expands a variable", "processes:\n  web:\n    command: gunicorn --bind 0.0.0.0:$PORT\n",
			`jack.yaml:3: processes.web.command: $ needs a shell, and Jack runs the command without one; write it as a list such as [sh, -c, "..."], or escape it with a backslash`},

		// Values Validate refuses, pointed at the process or the value.
		{"port out of range", "processes:\n  web:\n    port: 70000\n",
			`jack.yaml:2: processes.web.port 70000 is not a TCP port (1-65535)`},
		{"too many instances", "processes:\n  worker:\n    instances: 500\n",
			`jack.yaml:2: processes.worker.instances 500 is out of range (0-100)`},
		{"process name", "processes:\n  Web_1: {}\n",
			`jack.yaml:2: process name "Web_1" is not valid; use lowercase letters, digits and inner dashes (at most 40)`},
		{"health path", "processes:\n  web:\n    health: up\n",
			`jack.yaml:2: processes.web.health.path "up" must start with /`},
		{"memory too small", "processes:\n  web:\n    memory: 1m\n",
			`jack.yaml:2: processes.web.memory is below the engine's minimum of 6m`},
		{"negative cpus", "processes:\n  web:\n    cpus: -1\n",
			`jack.yaml:2: processes.web.cpus must be positive`},
		{"unknown strategy", "deploy:\n  strategy: blue-green\n",
			`jack.yaml:2: deploy strategy "blue-green" is not known; use rolling, immutable or all-at-once`},
		{"negative batch", "deploy:\n  batch: -1\n",
			`jack.yaml:2: deploy.batch must be at least 1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse("jack.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("parsed into %s, want error %q", dump(m), tc.want)
			}
			var e *jack.Error
			if !errors.As(err, &e) || e.Code != jack.EINVALID {
				t.Fatalf("error %v (%T) is not an EINVALID *Error", err, err)
			}
			if err.Error() != tc.want {
				t.Fatalf("error:\n got %s\nwant %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
		})
	}
}

func TestParseManifest_NamesTheFile(t *testing.T) {
	_, err := Parse("deploy/prod.yaml", []byte("deploy: {batch: x}\n"))
	if want := `deploy/prod.yaml:1: deploy.batch: expected a number, got "x"`; err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
}
