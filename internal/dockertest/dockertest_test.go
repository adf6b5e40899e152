package dockertest_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/jack-paas/jack/internal/dockertest"
)

func TestMain(m *testing.M) { dockertest.Main(m) }

// newTag returns a tag no other test uses, whose images are removed when
// the test ends.
func newTag(t *testing.T, cli *client.Client) string {
	suffix := make([]byte, 4)
	rand.Read(suffix)
	tag := "jack-test/dockertest:" + hex.EncodeToString(suffix)
	t.Cleanup(func() {
		cli.ImageRemove(context.Background(), tag, image.RemoveOptions{Force: true, PruneChildren: true})
	})
	return tag
}

func TestBuildGoImageBuildsOnceAndAgainWhenTheSourceChanges(t *testing.T) {
	cli := dockertest.Client(t)
	tag := newTag(t, cli)
	nonce := "ENV NONCE=" + tag // makes the first image this test's alone
	first := dockertest.BuildGoImage(t, cli, dockertest.TestApp, tag, nonce)
	again := dockertest.BuildGoImage(t, cli, dockertest.TestApp, tag, nonce)
	if again != first {
		t.Fatalf("second build of the same source made %s, want the cached %s", again, first)
	}
	changed := dockertest.BuildGoImage(t, cli, dockertest.TestApp, tag, nonce, "ENV APP_VERSION=v2")
	if changed == first {
		t.Fatal("a changed Dockerfile did not rebuild the image")
	}
	img, err := cli.ImageInspect(context.Background(), tag)
	if err != nil {
		t.Fatal(err)
	}
	if img.ID != changed || img.Config.Labels[dockertest.LabelTest] != "true" {
		t.Errorf("tag points to %s with labels %v; want %s labelled as a test image", img.ID, img.Config.Labels, changed)
	}
	if env := img.Config.Env; len(env) == 0 || env[len(env)-1] != "APP_VERSION=v2" {
		t.Errorf("image env %q lacks the extra Dockerfile line", env)
	}
	if _, err := cli.ImageInspect(context.Background(), first); !cerrdefs.IsNotFound(err) {
		t.Errorf("the replaced image %s is still there (%v)", first, err)
	}
}

func TestBuildGoImageKeepsAReplacedImageAnotherTagNames(t *testing.T) {
	cli := dockertest.Client(t)
	tag, other := newTag(t, cli), newTag(t, cli)
	nonce := "ENV NONCE=" + tag
	kept := dockertest.BuildGoImage(t, cli, dockertest.TestApp, other, nonce)
	dockertest.BuildGoImage(t, cli, dockertest.TestApp, tag, nonce) // may be the same image
	dockertest.BuildGoImage(t, cli, dockertest.TestApp, tag, nonce, "ENV APP_VERSION=v2")
	if img, err := cli.ImageInspect(context.Background(), other); err != nil || img.ID != kept {
		t.Errorf("rebuilding %s lost %s: %v", tag, other, err)
	}
}

func TestBuildGoImageFromParallelTestsBuildsOneImage(t *testing.T) {
	cli := dockertest.Client(t)
	tag := newTag(t, cli)
	ids := make([]string, 4)
	t.Run("group", func(t *testing.T) {
		for i := range ids {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				ids[i] = dockertest.BuildGoImage(t, cli, dockertest.TestApp, tag, "EXPOSE 8000")
			})
		}
	})
	for i, id := range ids {
		if id != ids[0] {
			t.Errorf("build %d made %s, build 0 made %s; want one image", i, id, ids[0])
		}
	}
}

// run starts a testapp worker container with the labels.
func run(t *testing.T, cli *client.Client, labels map[string]string) string {
	t.Helper()
	img := dockertest.BuildGoImage(t, cli, dockertest.TestApp, "jack-test/testapp:dockertest")
	resp, err := cli.ContainerCreate(context.Background(), &container.Config{Image: img, Cmd: []string{"worker"}, Labels: labels}, nil, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.ContainerStart(context.Background(), resp.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	return resp.ID
}

func exists(t *testing.T, cli *client.Client, id string) bool {
	_, err := cli.ContainerInspect(context.Background(), id)
	if err != nil && !cerrdefs.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

func TestCleanupRemovesOnlyTheTestsContainers(t *testing.T) {
	cli := dockertest.Client(t)
	dockertest.Cleanup(t, cli)
	parents := run(t, cli, dockertest.Labels(t))
	var childs string
	t.Run("child", func(t *testing.T) {
		dockertest.Cleanup(t, cli)
		childs = run(t, cli, dockertest.Labels(t))
	})
	if exists(t, cli, childs) {
		t.Error("the subtest's container outlived it")
	}
	if !exists(t, cli, parents) {
		t.Error("the subtest's clean-up removed its parent's container")
	}
}

func TestRemoveAllRemovesLeftoversOfDeadTestProcesses(t *testing.T) {
	cli := dockertest.Client(t)
	dockertest.Cleanup(t, cli)
	host, _ := os.Hostname()
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	dead := run(t, cli, map[string]string{dockertest.LabelTest: "true", dockertest.LabelProcess: fmt.Sprintf("%s:%d:x", host, gone.Process.Pid)})
	alive := dockertest.Labels(t)
	alive[dockertest.LabelProcess] = fmt.Sprintf("%s:%d:x", host, os.Getppid()) // go test, still running
	living := run(t, cli, alive)

	if err := dockertest.RemoveAll(context.Background(), cli); err != nil {
		t.Fatal(err)
	}
	if exists(t, cli, dead) {
		t.Error("a dead test process's container survived RemoveAll")
	}
	if !exists(t, cli, living) {
		t.Error("RemoveAll removed the container of a test process still running")
	}
}
