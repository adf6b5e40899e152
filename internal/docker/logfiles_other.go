//go:build !linux

package docker

import (
	"context"
	"time"

	"github.com/docker/docker/api/types/container"
	jack "github.com/jack-paas/jack"
)

// logFiles is empty where Jack does not read the local driver's files: it
// reads containers' output through the engine's API.
type logFiles struct{ mode string }

func (l *logFiles) wakeContainer(string) {}
func (l *logFiles) close()               {}

func (r *Runtime) openLogsFromFiles(context.Context, *container.InspectResponse, time.Time, bool) (jack.LogStream, bool, error) {
	return nil, false, nil
}
