//go:build unix

package http1

import (
	"net"
	"syscall"
	"unsafe"
)

// idleWait waits, holding no buffer, until a connection has bytes to read
// or has ended (or its read deadline passes).
//
// An idle keep-alive connection thus costs its goroutine and its socket
// but not the 4 KiB read buffer (and head reader) it would otherwise sit in
// a read with. The wait peeks at the socket (MSG_PEEK, without blocking)
// before asking the poller, so data that arrived before the wait began is
// seen at once.
type idleWait struct {
	rc   syscall.RawConn
	peek func(fd uintptr) bool // the method value, made once
	err  error
}

// init prepares the wait for conn, and reports false when conn is not a
// socket it can wait on that way: the connection then reads into a buffer
// as usual.
func (w *idleWait) init(conn net.Conn) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	w.rc, w.peek = rc, w.peekFD
	return true
}

// wait returns nil once the connection is readable (or at its end), or the
// error that stopped the wait (a deadline, a closed connection).
func (w *idleWait) wait() error {
	w.err = nil
	if err := w.rc.Read(w.peek); err != nil {
		return err
	}
	return w.err
}

func (w *idleWait) peekFD(fd uintptr) bool {
	var b [1]byte
	_, _, e := syscall.Syscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	switch e {
	case syscall.EAGAIN, syscall.EINTR:
		return false // nothing yet: wait for the poller
	case 0:
		return true // a byte, or the end
	default:
		w.err = e
		return true
	}
}
