//go:build unix

package docker

import (
	"os"
	"path/filepath"
	"syscall"
)

// lockNetworkCreation serializes finding or creating the network named
// name between the Jack processes (and runtimes) of this machine, with an
// flock on a file in /run/lock (else the temporary folder). Engine 20.10
// lets two creators racing make two networks of one name, and the one
// whose creation started first can be listed last, so "settle on the
// oldest" alone could leave two creators on different networks. Where the
// lock cannot be had, it returns at once and the oldest-wins rule remains.
func lockNetworkCreation(name string) (unlock func()) {
	dir := "/run/lock"
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		dir = os.TempDir()
	}
	f, err := os.OpenFile(filepath.Join(dir, "jack-network-"+name+".lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return func() {}
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return func() {}
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}
}
