//go:build linux

package http1

import (
	"errors"
	"io"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// errWouldBlock is a loop's read that found nothing to read.
var errWouldBlock = errors.New("nothing to read yet")

// rawSocket reads and writes a connection's socket without waiting, for
// the event loop, through the connection's RawConn (which keeps the
// descriptor from being closed and reused under a call).
type rawSocket struct {
	rc      syscall.RawConn
	readFn  func(fd uintptr) bool // method values, made once
	writeFn func(fd uintptr) bool
	p       []byte
	n       int
	errno   error

	out     []byte // response bytes the socket has not taken yet
	drained bool   // the last read found the socket empty
	hup     bool   // the client has closed its side, or the socket failed
}

// init prepares the socket of conn, and reports false when conn has none.
func (r *rawSocket) init(conn net.Conn) bool {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return false
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return false
	}
	r.rc, r.readFn, r.writeFn = rc, r.readFD, r.writeFD
	return true
}

// watch adds the socket to epoll set ep (op EPOLL_CTL_ADD), edge-triggered
// with id as its data, or removes it (EPOLL_CTL_DEL). A goroutine giving
// the connection back calls it as the loop may begin to use the socket, so
// it keeps its state to itself.
func (r *rawSocket) watch(ep, op int, id uint64) error {
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLOUT | syscall.EPOLLRDHUP | unix.EPOLLET,
		Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
	var err error
	if cerr := r.rc.Control(func(fd uintptr) { err = syscall.EpollCtl(ep, op, int(fd), &ev) }); cerr != nil {
		return cerr
	}
	return err
}

// read reads what the socket has, errWouldBlock when nothing, io.EOF at
// its end.
func (r *rawSocket) read(p []byte) (int, error) {
	r.p = p
	err := r.rc.Read(r.readFn)
	r.p = nil
	if err != nil {
		return 0, err
	}
	switch n, errno := r.n, r.errno; {
	case errno == syscall.EAGAIN:
		r.drained = true
		return 0, errWouldBlock
	case errno != nil:
		return 0, errno
	case n == 0:
		return 0, io.EOF
	default:
		r.drained = n < len(p) // a short read emptied the socket
		return n, nil
	}
}

func (r *rawSocket) readFD(fd uintptr) bool {
	for {
		r.n, r.errno = syscall.Read(int(fd), r.p)
		if r.errno != syscall.EINTR {
			return true
		}
	}
}

// Write sends p as far as the socket takes it and keeps the rest in out
// for flush; it fails only when the connection does.
func (r *rawSocket) Write(p []byte) (int, error) {
	if len(r.out) > 0 {
		r.out = append(r.out, p...)
		return len(p), nil
	}
	n, err := r.send(p)
	if err != nil {
		return n, err
	}
	if n < len(p) {
		r.out = append(r.out[:0], p[n:]...)
	}
	return len(p), nil
}

// flush sends what out holds as far as the socket takes it.
func (r *rawSocket) flush() error {
	n, err := r.send(r.out)
	if err != nil {
		return err
	}
	rest := copy(r.out, r.out[n:])
	r.out = r.out[:rest]
	if rest == 0 && cap(r.out) > 64<<10 {
		r.out = nil // a big response's room goes back
	}
	return nil
}

// send writes p until the socket is full, and returns how much it took.
func (r *rawSocket) send(p []byte) (int, error) {
	sent := 0
	for sent < len(p) {
		r.p = p[sent:]
		err := r.rc.Write(r.writeFn)
		r.p = nil
		if err != nil {
			return sent, err
		}
		if r.errno == syscall.EAGAIN {
			break
		}
		if r.errno != nil {
			return sent, r.errno
		}
		sent += r.n
	}
	return sent, nil
}

func (r *rawSocket) writeFD(fd uintptr) bool {
	for {
		r.n, r.errno = syscall.Write(int(fd), r.p)
		if r.errno != syscall.EINTR {
			return true
		}
	}
}
