package deploy

import (
	"strings"

	jack "github.com/jack-paas/jack"
)

// One-off containers run a command of a release beside its instances: the
// release command of a deployment, `jack run`, and cron jobs.

// oneOffRuntime returns the runtime's one-off side, or an error saying the
// runtime has none.
func (s *shared) oneOffRuntime() (jack.OneOffRuntime, error) {
	r, ok := s.runtime.(jack.OneOffRuntime)
	if !ok {
		return nil, jack.Errorf(jack.EUNAVAILABLE, "this runtime can't run one-off containers")
	}
	return r, nil
}

// resourcesOf returns the process whose resources a one-off container
// gets: the one named, else web, else the first.
func resourcesOf(v *jack.Version, process string) (string, *jack.Process) {
	if process != "" {
		return process, v.Manifest.Processes[process]
	}
	if p := v.Manifest.Processes[jack.DefaultProcessName]; p != nil {
		return jack.DefaultProcessName, p
	}
	names := v.Manifest.ProcessNames()
	if len(names) == 0 {
		return "", nil
	}
	return names[0], v.Manifest.Processes[names[0]]
}

// oneOffSpec returns the spec of a one-off container of a release: its
// image, config and volumes, and the resources of process proc.
func (s *shared) oneOffSpec(env *jack.Environment, rel *jack.Release, v *jack.Version, process string, proc *jack.Process, kind, name string, command []string) *jack.OneOffSpec {
	if proc == nil {
		proc = &jack.Process{Port: jack.DefaultPort}
	}
	environ := environ(env, rel, v, process, proc)
	for i, kv := range environ {
		if strings.HasPrefix(kv, "JACK_PROCESS=") {
			environ[i] = "JACK_PROCESS=" + name
		}
	}
	return &jack.OneOffSpec{
		Owner: s.owner, App: env.App, Env: env.Name, Kind: kind, Name: name, Process: process,
		Release: rel.Number, Version: v.Label, Image: v.ImageID, Command: command,
		Environ: environ, Memory: proc.Memory, CPUs: proc.CPUs, Volumes: v.Manifest.VolumeMounts(),
		StopTimeout: proc.Stop.D(),
	}
}
