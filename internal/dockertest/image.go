package dockertest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

// TestApp is the import path of the configurable app tests deploy; see
// package testapp.
const TestApp = "github.com/jack-paas/jack/internal/dockertest/testapp"

// BuildGoImage builds the Go main package pkgPath (an import path) into a
// static binary and an image FROM scratch tagged tag, whose ENTRYPOINT is
// the binary; dockerfileExtra lines ("ENV APP_VERSION=v2", "EXPOSE 8000")
// go before the ENTRYPOINT. It returns the image's ID.
//
// The image is labelled with a hash of the binary and the Dockerfile and is
// only built again when that changes, so a test run builds each image once.
// Builds of one tag are serialised across goroutines and test processes on
// this machine, since the engine is shared. Give each variant (each set of
// dockerfileExtra lines) its own tag: a rebuild of a tag removes the image
// it replaces.
func BuildGoImage(t testing.TB, cli *client.Client, pkgPath, tag string, dockerfileExtra ...string) string {
	t.Helper()
	return BuildGoImageWithFiles(t, cli, pkgPath, tag, nil, dockerfileExtra...)
}

// ImageFile is a file (or symlink, or folder) put into an image by
// BuildGoImageWithFiles, at Name (absolute).
type ImageFile struct {
	Name    string
	Body    string
	Mode    int64     // default 0644 (0755 for folders)
	Link    string    // a symlink to Link when set
	Dir     bool      // a folder
	ModTime time.Time // default the build's time
}

// BuildGoImageWithFiles is BuildGoImage with files added to the image
// (before dockerfileExtra), as static files are.
func BuildGoImageWithFiles(t testing.TB, cli *client.Client, pkgPath, tag string, files []ImageFile, dockerfileExtra ...string) string {
	t.Helper()
	binary, err := goBuild(pkgPath)
	if err != nil {
		t.Fatalf("build %s: %v", pkgPath, err)
	}
	name := path.Base(pkgPath)
	if len(files) > 0 {
		dockerfileExtra = append([]string{"COPY files/ /"}, dockerfileExtra...)
	}
	dockerfile := dockerfileFor(name, dockerfileExtra)
	sum := sha256.New()
	sum.Write(binary)
	sum.Write([]byte(dockerfile))
	for _, f := range files {
		fmt.Fprintf(sum, "%s\x00%s\x00%o\x00%s\x00%v\x00%d\n", f.Name, f.Body, f.Mode, f.Link, f.Dir, f.ModTime.Unix())
	}
	source := hex.EncodeToString(sum.Sum(nil))

	unlock, err := lockTag(tag)
	if err != nil {
		t.Fatalf("lock image tag %s: %v", tag, err)
	}
	defer unlock()
	ctx := context.Background()
	old, err := cli.ImageInspect(ctx, tag)
	if err == nil && old.Config != nil && old.Config.Labels[LabelSource] == source {
		return old.ID
	}
	id, err := buildImage(ctx, cli, tag, source, name, binary, dockerfile, files)
	if err != nil {
		t.Fatalf("build image %s: %v", tag, err)
	}
	if old.ID != "" && old.ID != id {
		removeIfUntagged(ctx, cli, old.ID)
	}
	return id
}

// removeIfUntagged removes the image a rebuild replaced, unless another tag
// still names it (the engine's build cache gives identical builds one ID) or
// a container uses it.
func removeIfUntagged(ctx context.Context, cli *client.Client, id string) {
	if img, err := cli.ImageInspect(ctx, id); err == nil && len(img.RepoTags) == 0 {
		cli.ImageRemove(ctx, id, image.RemoveOptions{PruneChildren: true})
	}
}

// dockerfileFor returns the Dockerfile of a binary copied into scratch.
func dockerfileFor(binary string, extra []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "FROM scratch\nCOPY %s /%s\n", binary, binary)
	for _, line := range extra {
		b.WriteString(line + "\n")
	}
	fmt.Fprintf(&b, "ENTRYPOINT [\"/%s\"]\n", binary)
	return b.String()
}

// binaries memoises goBuild per package for the life of the test process.
var binaries sync.Map // import path -> func() ([]byte, error)

// goBuild returns a static Linux binary of the package, built with the go
// command on the PATH (go test puts its own first).
func goBuild(pkgPath string) ([]byte, error) {
	f, _ := binaries.LoadOrStore(pkgPath, sync.OnceValues(func() ([]byte, error) {
		dir, err := os.MkdirTemp("", "dockertest-build-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, path.Base(pkgPath))
		cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-o", out, pkgPath)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
		if msg, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build: %w\n%s", err, msg)
		}
		return os.ReadFile(out)
	}))
	return f.(func() ([]byte, error))()
}

// buildImage sends the binary and Dockerfile to the engine's classic
// builder and returns the new image's ID.
func buildImage(ctx context.Context, cli *client.Client, tag, source, name string, binary []byte, dockerfile string, extra []ImageFile) (string, error) {
	var tarball bytes.Buffer
	tw := tar.NewWriter(&tarball)
	files := []struct {
		name string
		mode int64
		body []byte
	}{{"Dockerfile", 0o644, []byte(dockerfile)}, {name, 0o755, binary}}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.body))}); err != nil {
			return "", err
		}
		if _, err := tw.Write(f.body); err != nil {
			return "", err
		}
	}
	for _, f := range extra {
		hdr := &tar.Header{Name: "files" + f.Name, Mode: f.Mode, ModTime: f.ModTime, Typeflag: tar.TypeReg, Size: int64(len(f.Body))}
		if hdr.ModTime.IsZero() {
			hdr.ModTime = time.Now()
		}
		switch {
		case f.Link != "":
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeSymlink, f.Link, 0
		case f.Dir:
			hdr.Typeflag, hdr.Size = tar.TypeDir, 0
		}
		if hdr.Mode == 0 {
			hdr.Mode = 0o644
			if f.Dir {
				hdr.Mode = 0o755
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return "", err
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := io.WriteString(tw, f.Body); err != nil {
				return "", err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	resp, err := cli.ImageBuild(ctx, &tarball, build.ImageBuildOptions{
		Tags:        []string{tag},
		Labels:      map[string]string{LabelTest: "true", LabelSource: source},
		Remove:      true,
		ForceRemove: true,
		Version:     build.BuilderV1,
	})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	return readBuildOutput(resp.Body)
}

// readBuildOutput reads the builder's JSON messages and returns the built
// image's ID, or the builder's error with the output that led to it.
func readBuildOutput(r io.Reader) (string, error) {
	var id string
	var output strings.Builder
	dec := json.NewDecoder(r)
	for {
		var m struct {
			Stream string          `json:"stream"`
			Error  string          `json:"error"`
			Aux    json.RawMessage `json:"aux"`
		}
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return "", fmt.Errorf("read build output: %w", err)
		}
		output.WriteString(m.Stream)
		if m.Error != "" {
			return "", fmt.Errorf("%s\n%s", m.Error, output.String())
		}
		var aux struct{ ID string }
		if len(m.Aux) > 0 && json.Unmarshal(m.Aux, &aux) == nil && aux.ID != "" {
			id = aux.ID
		}
	}
	if id == "" {
		return "", fmt.Errorf("the engine built no image:\n%s", output.String())
	}
	return id, nil
}

// lockTag takes a lock on the tag shared by every process on this machine
// and returns its release.
func lockTag(tag string) (func(), error) {
	sum := sha256.Sum256([]byte(tag))
	name := filepath.Join(os.TempDir(), "jack-dockertest-"+hex.EncodeToString(sum[:8])+".lock")
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}
