package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"

	jack "github.com/jack-paas/jack"
)

// plan is what one release asks of one process.
type plan struct {
	process string
	proc    *jack.Process
	count   int
	spec    jack.InstanceSpec // Slot and Deployment are set per instance
}

// plans returns, web first, what a release asks of each process of its
// version: the environment's scale overrides the manifest's instances.
func plans(env *jack.Environment, rel *jack.Release, v *jack.Version, owner string) []*plan {
	var out []*plan
	for _, name := range v.Manifest.ProcessNames() {
		p := v.Manifest.Processes[name]
		count := p.Instances
		if n, ok := rel.Scale[name]; ok {
			count = n
		}
		spec := jack.InstanceSpec{
			Owner:       owner,
			App:         env.App,
			Env:         env.Name,
			Process:     name,
			Release:     rel.Number,
			Version:     v.Label,
			Image:       v.ImageID,
			ImageDigest: v.Digest,
			Entrypoint:  p.Entrypoint,
			Command:     p.Command,
			Port:        p.Port,
			Memory:      p.Memory,
			CPUs:        p.CPUs,
			StopTimeout: p.Stop.D(),
			Volumes:     v.Manifest.VolumeMounts(),
		}
		spec.Environ = environ(env, rel, v, name, p)
		spec.Spec = specHash(&spec)
		out = append(out, &plan{process: name, proc: p, count: count, spec: spec})
	}
	return out
}

// environ returns the variables every process gets, then the config vars,
// sorted so that equal configs give equal hashes.
func environ(env *jack.Environment, rel *jack.Release, v *jack.Version, process string, p *jack.Process) []string {
	out := []string{
		"PORT=" + strconv.Itoa(p.Port),
		"JACK_APP=" + env.App,
		"JACK_ENV=" + env.Name,
		"JACK_RELEASE=" + strconv.Itoa(rel.Number),
		"JACK_VERSION=" + v.Label,
		"JACK_PROCESS=" + process,
	}
	keys := make([]string, 0, len(rel.Config))
	for k := range rel.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+rel.Config[k])
	}
	return out
}

// specHash identifies what an instance runs. Two instances with the same
// hash are interchangeable, so a scale change or a release that changes
// nothing for a process keeps its instances. JACK_RELEASE is left out: it
// names the release an instance was started for, and changes with every
// release, even one that only scales.
func specHash(s *jack.InstanceSpec) string {
	env := make([]string, 0, len(s.Environ))
	for _, kv := range s.Environ {
		if len(kv) < 13 || kv[:13] != "JACK_RELEASE=" {
			env = append(env, kv)
		}
	}
	fields := struct {
		Image, Process string
		Command, Env   []string
		Port           int
		Memory         int64
		CPUs           float64
		Stop           int64
		Entrypoint     []string           `json:",omitempty"`
		Volumes        []jack.VolumeMount `json:",omitempty"`
	}{s.Image, s.Process, s.Command, env, s.Port, s.Memory, s.CPUs, int64(s.StopTimeout), s.Entrypoint, s.Volumes}
	b, _ := json.Marshal(fields)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
