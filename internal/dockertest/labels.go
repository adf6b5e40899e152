package dockertest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
)

// Labels on test resources. Every container, network and image a test makes
// carries LabelTest; containers and networks also say which test process
// (LabelProcess) and which test (LabelCase) made them, so clean-ups remove
// their own and never another test binary's running at the same time.
const (
	LabelTest    = "dev.jack.test"         // "true"
	LabelProcess = "dev.jack.test.process" // HOSTNAME:PID:RANDOM of the test binary
	LabelCase    = "dev.jack.test.case"    // the process label and a hash of the test's name
	LabelSource  = "dev.jack.test.source"  // on images: hash of what they were built from
)

// processID names this test process: the machine, the pid (so a later run
// can tell that the process is gone) and a random part (pids are reused).
var processID = func() string {
	host, _ := os.Hostname()
	suffix := make([]byte, 4)
	rand.Read(suffix)
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(suffix))
}()

// Labels returns the labels to put on every container or network the test
// creates; the same for every call in one test. A jack docker.Runtime takes
// them as its ExtraLabels.
func Labels(t testing.TB) map[string]string {
	return map[string]string{LabelTest: "true", LabelProcess: processID, LabelCase: caseID(t)}
}

// caseID identifies a test within this process.
func caseID(t testing.TB) string {
	sum := sha256.Sum256([]byte(t.Name()))
	return processID + ":" + hex.EncodeToString(sum[:8])
}

// Cleanup removes, when the test ends, the containers and networks that
// carry its Labels, running or not.
func Cleanup(t testing.TB, cli *client.Client) {
	t.Helper()
	label := LabelCase + "=" + caseID(t)
	t.Cleanup(func() {
		if err := remove(context.Background(), cli, label); err != nil {
			t.Errorf("remove the test's Docker resources: %v", err)
		}
	})
}

// RemoveAll removes the containers and networks of this test process, and
// those of test processes on this machine that are no longer running (a
// test binary killed by a timeout leaves its containers behind).
func RemoveAll(ctx context.Context, cli *client.Client) error {
	err := remove(ctx, cli, LabelProcess+"="+processID)
	test := filters.NewArgs(filters.Arg("label", LabelTest+"=true"))
	containers, lerr := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: test})
	if lerr != nil {
		return errors.Join(err, fmt.Errorf("list test containers: %w", lerr))
	}
	nets, lerr := cli.NetworkList(ctx, network.ListOptions{Filters: test})
	if lerr != nil {
		return errors.Join(err, fmt.Errorf("list test networks: %w", lerr))
	}
	owners := map[string]bool{}
	for _, c := range containers {
		owners[c.Labels[LabelProcess]] = true
	}
	for _, n := range nets {
		owners[n.Labels[LabelProcess]] = true
	}
	for p := range owners {
		if p != "" && processGone(p) {
			err = errors.Join(err, remove(ctx, cli, LabelProcess+"="+p))
		}
	}
	return err
}

// processGone reports whether the test process named by id ran on this
// machine and has exited.
func processGone(id string) bool {
	parts := strings.Split(id, ":")
	host, _ := os.Hostname()
	if len(parts) != 3 || parts[0] != host {
		return false
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil || pid == os.Getpid() {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// remove force-removes the containers, then the networks, with the label.
func remove(ctx context.Context, cli *client.Client, label string) error {
	args := filters.NewArgs(filters.Arg("label", label))
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: args})
	if err != nil {
		return fmt.Errorf("list containers labelled %s: %w", label, err)
	}
	var errs []error
	for _, c := range list {
		err := cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
			errs = append(errs, fmt.Errorf("remove container %.12s: %w", c.ID, err))
		}
	}
	nets, err := cli.NetworkList(ctx, network.ListOptions{Filters: args})
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("list networks labelled %s: %w", label, err))...)
	}
	for _, n := range nets {
		if err := cli.NetworkRemove(ctx, n.ID); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
		}
	}
	return errors.Join(errs...)
}
