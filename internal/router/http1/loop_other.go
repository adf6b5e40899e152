//go:build !linux

package http1

import (
	"net"
	"syscall"
)

// Elsewhere than on Linux a goroutine serves each connection all its
// life; these stand in for the event loop's parts (loop_linux.go).

type eventLoop struct{}

type loopState struct{ raw rawSocket }

func startLoops(*Server, int) []*eventLoop { return nil }
func (*eventLoop) add(*conn)               {}
func (*eventLoop) remove(*conn)            {}
func (*eventLoop) poke()                   {}
func (*eventLoop) takeBack(*conn)          {}

type rawSocket struct{ rc syscall.RawConn }

func (*rawSocket) init(net.Conn) bool          { return false }
func (*rawSocket) read([]byte) (int, error)    { return 0, nil }
func (*rawSocket) Write(p []byte) (int, error) { return len(p), nil }
