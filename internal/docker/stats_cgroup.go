package docker

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	jack "github.com/jack-paas/jack"
)

// cgroupV1 reads containers' counters from cgroup v1 files, as the engine
// lays them out with the cgroupfs driver: CONTROLLER/docker/ID/.
type cgroupV1 struct {
	root   string // e.g. /sys/fs/cgroup
	parent string // e.g. docker
	proc   string // e.g. /proc
}

// findCgroupV1 returns a reader when root holds the v1 hierarchy with a
// docker parent, else nil.
func findCgroupV1(root string, local bool) *cgroupV1 {
	if !local {
		return nil
	}
	if root == "" {
		root = "/sys/fs/cgroup"
	}
	cg := &cgroupV1{root: root, parent: "docker", proc: "/proc"}
	for _, ctl := range []string{"cpuacct", "memory"} {
		if fi, err := os.Stat(filepath.Join(root, ctl, cg.parent)); err != nil || !fi.IsDir() {
			return nil
		}
	}
	return cg
}

// errNoCgroup says a container's cgroup files are missing.
var errNoCgroup = errors.New("no cgroup files")

// missing reports whether err says the container's files are not there.
func (cg *cgroupV1) missing(err error) bool { return errors.Is(err, errNoCgroup) }

func (cg *cgroupV1) path(controller, id, file string) string {
	return filepath.Join(cg.root, controller, cg.parent, id, file)
}

// read samples one container.
func (cg *cgroupV1) read(id string) (*jack.ContainerStats, error) {
	s := &jack.ContainerStats{Time: time.Now()}
	usage, err := readUint(cg.path("cpuacct", id, "cpuacct.usage"))
	if err != nil {
		return nil, err
	}
	s.CPUSeconds = float64(usage) / 1e9
	if s.MemoryUsage, err = readUint(cg.path("memory", id, "memory.usage_in_bytes")); err != nil {
		return nil, err
	}
	limit, err := readUint(cg.path("memory", id, "memory.limit_in_bytes"))
	if err != nil {
		return nil, err
	}
	if limit < 1<<60 { // the kernel's "no limit" is about 2^63
		s.MemoryLimit = limit
	}
	inactive, err := readKey(cg.path("memory", id, "memory.stat"), "total_inactive_file")
	if err != nil {
		return nil, err
	}
	s.MemoryWorkingSet = s.MemoryUsage - min(inactive, s.MemoryUsage)
	s.CPULimit = cg.cpuLimit(id)
	s.BlockReadBytes, s.BlockWriteBytes = cg.blockIO(id)
	s.NetRxBytes, s.NetTxBytes = cg.network(id)
	return s, nil
}

// cpuLimit returns the cores the CFS quota allows; 0 when unlimited.
func (cg *cgroupV1) cpuLimit(id string) float64 {
	quota, err := readInt(cg.path("cpu", id, "cpu.cfs_quota_us"))
	if err != nil || quota <= 0 {
		return 0
	}
	period, err := readInt(cg.path("cpu", id, "cpu.cfs_period_us"))
	if err != nil || period <= 0 {
		return 0
	}
	return float64(quota) / float64(period)
}

// blockIO sums the bytes read and written on every device.
func (cg *cgroupV1) blockIO(id string) (read, write uint64) {
	data, err := os.ReadFile(cg.path("blkio", id, "blkio.throttle.io_service_bytes"))
	if err != nil {
		return 0, 0
	}
	for line := range bytes.Lines(data) {
		f := strings.Fields(string(line))
		if len(f) != 3 {
			continue
		}
		n, _ := strconv.ParseUint(f[2], 10, 64)
		switch f[1] {
		case "Read":
			read += n
		case "Write":
			write += n
		}
	}
	return read, write
}

// network sums the bytes of the container's interfaces but loopback, from
// /proc/PID/net/dev of one of its processes (they share the namespace).
func (cg *cgroupV1) network(id string) (rx, tx uint64) {
	data, err := os.ReadFile(cg.path("memory", id, "cgroup.procs"))
	if err != nil {
		return 0, 0
	}
	pid, _, _ := strings.Cut(string(data), "\n")
	if pid == "" {
		return 0, 0
	}
	f, err := os.Open(filepath.Join(cg.proc, pid, "net", "dev"))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, counters, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(name) == "lo" {
			continue
		}
		fields := strings.Fields(counters)
		if len(fields) < 9 {
			continue
		}
		r, _ := strconv.ParseUint(fields[0], 10, 64)
		t, _ := strconv.ParseUint(fields[8], 10, 64)
		rx += r
		tx += t
	}
	return rx, tx
}

// readUint reads a file holding one unsigned number.
func readUint(path string) (uint64, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("read %s: %w", path, errNoCgroup)
	} else if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	n, err := strconv.ParseUint(string(bytes.TrimSpace(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", path, err)
	}
	return n, nil
}

func readInt(path string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(string(bytes.TrimSpace(data)), 10, 64)
}

// readKey returns the value of key in a "key value" per line file.
func readKey(path, key string) (uint64, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("read %s: %w", path, errNoCgroup)
	} else if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	for line := range bytes.Lines(data) {
		k, v, ok := bytes.Cut(bytes.TrimSpace(line), []byte(" "))
		if ok && string(k) == key {
			return strconv.ParseUint(string(v), 10, 64)
		}
	}
	return 0, nil
}
