package docker

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/volume"
	jack "github.com/jack-paas/jack"
)

// oneOffSpec returns the spec of a testapp one-off container.
func oneOffSpec(image string, command []string, env ...string) *jack.OneOffSpec {
	return &jack.OneOffSpec{
		App: "notes", Env: "production", Kind: jack.KindRun, Name: "run", Process: "web",
		Release: 3, Version: "v2", Image: image, Command: command, Environ: env, StopTimeout: 5 * time.Second,
	}
}

// lockedBuffer is a buffer written by the runtime while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestRunOneOffPassesOutputAndExitCodeAndIsNoInstance(t *testing.T) {
	r, cli := newRuntime(t)
	image := testImage(t, cli)
	ctx := context.Background()
	var stdout, stderr lockedBuffer
	var seen struct {
		labels            map[string]string
		instances, oneOff int
	}
	spec := oneOffSpec(image, []string{"worker"}, "EXIT_AT_START=3")
	res, err := r.RunOneOff(ctx, spec, jack.OneOffIO{Stdout: &stdout, Stderr: &stderr, Started: func(id string) {
		info, err := cli.ContainerInspect(ctx, id)
		if err == nil {
			seen.labels = info.Config.Labels
		}
		ins, _ := r.List(ctx, "notes", "production")
		offs, _ := r.ListOneOffs(ctx, "notes", "production")
		seen.instances, seen.oneOff = len(ins), len(offs)
	}})
	if err != nil || res.ExitCode != 3 || res.Stopped {
		t.Fatalf("RunOneOff = %+v, %v", res, err)
	}
	if stderr.String() != "boom: failing on purpose\n" || stdout.String() != "" {
		t.Fatalf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	if seen.labels[jack.LabelKind] != jack.KindRun || seen.labels[jack.LabelProcess] != "run" || seen.labels[jack.LabelApp] != "notes" || seen.labels[jack.LabelOwner] != testOwner {
		t.Fatalf("labels %v", seen.labels)
	}
	if seen.instances != 0 || seen.oneOff != 1 {
		t.Fatalf("while it ran: List gave %d instances, ListOneOffs %d one-offs; want 0 and 1", seen.instances, seen.oneOff)
	}
	if offs, _ := r.ListOneOffs(ctx, "notes", "production"); len(offs) != 0 {
		t.Fatalf("%d one-off containers left after it exited", len(offs))
	}
}

func TestRunOneOffIsStoppedWhenCtxEnds(t *testing.T) {
	r, cli := newRuntime(t)
	image := testImage(t, cli)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout lockedBuffer
	go func() {
		for !strings.Contains(stdout.String(), "working") {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
	}()
	res, err := r.RunOneOff(ctx, oneOffSpec(image, []string{"worker"}), jack.OneOffIO{Stdout: &stdout})
	if err != nil || !res.Stopped || res.ExitCode != 0 {
		t.Fatalf("RunOneOff = %+v, %v; want stopped, exit 0 (the worker exits 0 on SIGTERM)", res, err)
	}
	if offs, _ := r.ListOneOffs(context.Background(), "notes", "production"); len(offs) != 0 {
		t.Fatalf("%d one-off containers left after the stop", len(offs))
	}
}

func TestRunOneOffOfAMissingCommand(t *testing.T) {
	r, cli := newRuntime(t)
	image := testImage(t, cli)
	spec := oneOffSpec(image, nil)
	spec.Kind, spec.Name, spec.Entrypoint = jack.KindRelease, "release", []string{"/no/such/migrate"}
	_, err := r.RunOneOff(context.Background(), spec, jack.OneOffIO{})
	if jack.ErrorCode(err) != jack.EINVALID || !strings.Contains(err.Error(), `release command "/no/such/migrate" is not found in the image`) {
		t.Fatalf("err = %v", err)
	}
}

func TestReadImageFile(t *testing.T) {
	r, cli := newRuntime(t)
	image := testImage(t, cli)
	ctx := context.Background()
	if _, err := r.ReadImageFile(ctx, image, "/jack.yaml"); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Fatalf("a missing file: %v", err)
	}
	if _, err := r.ReadImageFile(ctx, image, "/testapp"); jack.ErrorCode(err) != jack.EINVALID || !strings.Contains(err.Error(), "at most 1 MiB") {
		t.Fatalf("a large file: %v", err)
	}
}

func TestVolumesAreLabelledKeptAndRemoved(t *testing.T) {
	r, cli := newRuntime(t)
	image := testImage(t, cli)
	ctx := context.Background()
	t.Cleanup(func() { r.RemoveVolumes(context.Background(), "notes", "production") })
	spec := webSpec(image, 1)
	spec.Volumes = []jack.VolumeMount{{Name: "data", Path: "/data"}}
	c := start(t, r, spec)
	info, err := cli.ContainerInspect(ctx, c.ID)
	if err != nil || len(info.Mounts) != 1 || info.Mounts[0].Destination != "/data" || info.Mounts[0].Name != "jack-"+testOwner+"-notes-production-data" {
		t.Fatalf("mounts %+v, %v", info.Mounts, err)
	}
	if _, err := r.RemoveVolumes(ctx, "notes", "production"); jack.ErrorCode(err) != jack.ECONFLICT {
		t.Fatalf("removing a volume in use: %v", err)
	}
	if err := r.Stop(ctx, c.ID, time.Second); err != nil {
		t.Fatal(err)
	}
	v, err := cli.VolumeInspect(ctx, "jack-"+testOwner+"-notes-production-data")
	if err != nil || v.Labels[jack.LabelApp] != "notes" || v.Labels[labelVolume] != "data" {
		t.Fatalf("after the container went: %+v, %v; want the volume kept", v, err)
	}
	removed, err := r.RemoveVolumes(ctx, "notes", "production")
	if err != nil || len(removed) != 1 || removed[0] != "data" {
		t.Fatalf("RemoveVolumes = %v, %v", removed, err)
	}
	list, _ := cli.VolumeList(ctx, volume.ListOptions{})
	for _, v := range list.Volumes {
		if v.Name == "jack-"+testOwner+"-notes-production-data" {
			t.Fatal("the volume is still there")
		}
	}
}
