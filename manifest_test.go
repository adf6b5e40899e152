package jack

import (
	"testing"
	"time"
)

func TestManifestWithDefaults(t *testing.T) {
	image := ImageInfo{ExposedPorts: []int{9000, 8000}}

	empty := (&Manifest{}).WithDefaults(image)
	web := empty.Processes[DefaultProcessName]
	if len(empty.Processes) != 1 || web == nil {
		t.Fatalf("an empty manifest got processes %v, want one web", empty.ProcessNames())
	}
	if web.Port != 8000 || web.Instances != 1 || web.Stop.D() != DefaultStopTimeout {
		t.Fatalf("web = %+v", web)
	}
	if web.Health == nil || web.Health.Path != "/" || web.Health.Interval.D() != DefaultHealthInterval {
		t.Fatalf("web health = %+v", web.Health)
	}
	if d := empty.Deploy; d.Strategy != StrategyRolling || d.Batch != 1 || d.Drain.D() != DefaultDrain || d.Timeout.D() != DefaultDeployTimeout {
		t.Fatalf("deploy = %+v", d)
	}

	given := &Manifest{Processes: map[string]*Process{
		"worker": {Instances: 3},
		"clock":  nil, // as "clock:" with nothing after it may decode from JSON
	}}
	got := given.WithDefaults(image)
	if got.Processes["worker"].Instances != 3 || got.Processes["worker"].Health != nil {
		t.Fatalf("worker = %+v; want 3 instances and no HTTP check", got.Processes["worker"])
	}
	if got.Processes["clock"] == nil || got.Processes["clock"].Instances != 1 {
		t.Fatalf("clock = %+v; want defaults", got.Processes["clock"])
	}
	if _, ok := got.Processes[DefaultProcessName]; ok {
		t.Fatal("a manifest with processes got a web process added")
	}
	if given.Processes["worker"].Stop != 0 {
		t.Fatal("WithDefaults changed the manifest it was given")
	}
}

func TestManifestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    *Manifest
		want string
	}{
		{"nil process", &Manifest{Processes: map[string]*Process{"web": nil}}, ""},
		{"negative stop timeout", &Manifest{Processes: map[string]*Process{"web": {Stop: Duration(-time.Second)}}},
			"processes.web durations must be positive"},
		{"negative health interval", &Manifest{Processes: map[string]*Process{"web": {Health: &HealthCheck{Interval: Duration(-time.Second)}}}},
			"processes.web durations must be positive"},
		{"web is checked first", &Manifest{Processes: map[string]*Process{"a": {Port: -1}, "web": {Port: -1}, "z": {Port: -1}}},
			"processes.web.port -1 is not a TCP port (1-65535)"},
		{"then by name", &Manifest{Processes: map[string]*Process{"b": {Port: -1}, "a": {Port: -1}}},
			"processes.a.port -1 is not a TCP port (1-65535)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.m.Validate()
			if got := ErrorMessage(err); got != tc.want {
				t.Fatalf("Validate() = %q, want %q", got, tc.want)
			}
		})
	}
}
