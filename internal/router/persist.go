package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/jack-paas/jack"
)

// Files the router keeps in the data folder.
const (
	socketFile = "router.sock" // the control API
	routesFile = "routes.json" // the last accepted route table
	pidFile    = "router.pid"
	logFile    = "router.log" // the spawned router's stdout and stderr
)

// SocketPath returns the control socket of the router whose data folder is
// dataDir.
func SocketPath(dataDir string) string { return filepath.Join(dataDir, socketFile) }

// saveTable writes rt to path atomically: a crash leaves the old table or
// the new one, never half of one.
func saveTable(path string, rt jack.RouteTable) error {
	data, err := json.Marshal(rt)
	if err != nil {
		return fmt.Errorf("encode route table: %w", err)
	}
	if err := writeFileAtomic(path, data); err != nil {
		return fmt.Errorf("save route table: %w", err)
	}
	return nil
}

// loadTable reads the table saved at path; a missing file is an empty
// table.
func loadTable(path string) (jack.RouteTable, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return jack.RouteTable{}, nil
	} else if err != nil {
		return jack.RouteTable{}, fmt.Errorf("read route table: %w", err)
	}
	var rt jack.RouteTable
	if err := json.Unmarshal(data, &rt); err != nil {
		return jack.RouteTable{}, fmt.Errorf("decode route table %s: %w", path, err)
	}
	return rt, nil
}

// writeFileAtomic writes data to a temporary file beside path, syncs it and
// renames it over path, then syncs the folder so the rename survives a
// power cut.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// loadSavedTable serves the table saved at path if it is newer than the
// one served.
func loadSavedTable(proxy *Proxy, path string, logger *slog.Logger) {
	rt, err := loadTable(path)
	if err != nil {
		logger.Error("could not load the saved route table; serving the one in memory until the daemon sends one", "err", err)
		return
	}
	if rt.Generation < proxy.Generation() || (rt.Generation == 0 && len(rt.Routes) == 0) {
		return
	}
	if err := proxy.SetRoutes(context.Background(), rt); err != nil {
		logger.Error("could not serve the saved route table; serving the one in memory until the daemon sends one", "err", err)
	}
}
