package deploy

import (
	"context"
	"fmt"
	"io"
	"strings"

	jack "github.com/jack-paas/jack"
)

// fakeOneOff says what the fake's one-off containers do.
type fakeOneOff struct {
	output string // written to stdout
	code   int
	block  bool  // run until ctx ends, then exit 143
	err    error // fail to start
}

// oneOffRun is one one-off container the fake ran: its spec, and how many
// instances of its release had started when it ran.
type oneOffRun struct {
	spec             jack.OneOffSpec
	instancesStarted int
}

// RunOneOff runs a one-off container as behaviour (set with onOneOff)
// says, by command's first word; unknown commands exit 0.
func (f *fakeRuntime) RunOneOff(ctx context.Context, spec *jack.OneOffSpec, streams jack.OneOffIO) (jack.OneOffResult, error) {
	f.mu.Lock()
	started := 0
	for _, fc := range f.containers {
		if fc.c.Release == spec.Release {
			started++
		}
	}
	f.oneOffs = append(f.oneOffs, oneOffRun{spec: *spec, instancesStarted: started})
	b := f.behaviour[strings.Join(spec.Command, " ")]
	f.mu.Unlock()
	if b.err != nil {
		return jack.OneOffResult{}, b.err
	}
	if streams.Started != nil {
		streams.Started(fmt.Sprintf("oneoff%d", len(f.oneOffs)))
	}
	if streams.Stdin != nil && spec.Stdin && streams.Stdout != nil {
		io.Copy(streams.Stdout, streams.Stdin)
	}
	if streams.Stdout != nil {
		io.WriteString(streams.Stdout, b.output)
	}
	if b.block {
		<-ctx.Done()
		return jack.OneOffResult{ExitCode: 143, Stopped: true}, nil
	}
	return jack.OneOffResult{ExitCode: b.code}, nil
}

// onOneOff sets what one-off containers running command do.
func (f *fakeRuntime) onOneOff(command string, b fakeOneOff) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.behaviour == nil {
		f.behaviour = map[string]fakeOneOff{}
	}
	f.behaviour[command] = b
}

// ran returns the one-off containers run so far.
func (f *fakeRuntime) ran() []oneOffRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]oneOffRun(nil), f.oneOffs...)
}

func (f *fakeRuntime) ListOneOffs(ctx context.Context, app, env string) ([]*jack.Container, error) {
	return nil, nil
}

func (f *fakeRuntime) ReadImageFile(ctx context.Context, image, path string) ([]byte, error) {
	return nil, jack.Errorf(jack.ENOTFOUND, "image %s has no %s", image, path)
}

func (f *fakeRuntime) RemoveVolumes(ctx context.Context, app, env string) ([]string, error) {
	return nil, nil
}
