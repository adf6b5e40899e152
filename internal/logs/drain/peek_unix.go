//go:build unix

package drain

import "golang.org/x/sys/unix"

// peekClosed reports whether a socket has something to read or has ended,
// without taking it or waiting.
func peekClosed(fd uintptr) bool {
	var one [1]byte
	n, _, err := unix.Recvfrom(int(fd), one[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	if err == unix.EAGAIN || err == unix.EINTR {
		return false
	}
	return err != nil || n >= 0
}
