package docker

import (
	"bytes"
	"context"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
	jack "github.com/jack-paas/jack"
)

// Logs returns the last n lines the instance wrote to stdout and stderr, in
// the order it wrote them, without their newlines; every line when n <= 0.
// ENOTFOUND if the container is gone.
func (r *Runtime) Logs(ctx context.Context, id string, n int) ([]string, error) {
	tail := "all"
	if n > 0 {
		tail = strconv.Itoa(n)
	}
	rc, err := r.cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: tail})
	if isNotFound(err) {
		return nil, jack.Errorf(jack.ENOTFOUND, "instance %.12s is gone", id)
	} else if err != nil {
		return nil, r.fail(err, "read logs of container %.12s", id)
	}
	defer rc.Close()
	// Both streams go to one buffer: stdcopy writes frames in the order the
	// engine sends them, which is the order they were written.
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, rc); err != nil {
		return nil, r.fail(err, "read logs of container %.12s", id)
	}
	text := strings.TrimSuffix(out.String(), "\n")
	if text == "" {
		return nil, nil
	}
	return strings.Split(text, "\n"), nil
}
