//go:build !linux

package router

import (
	"net"
	"syscall"
)

// Elsewhere than on Linux a goroutine serves each plain connection all its
// life; these stand in for the event loop's parts (loop_linux.go).

type eventLoop struct{}

func startLoops(*edgeServer) []*eventLoop { return nil }
func (*eventLoop) add(*edgeConn)          {}
func (*eventLoop) remove(*edgeConn)       {}
func (*eventLoop) poke()                  {}
func (*eventLoop) takeBack(*edgeConn)     {}

type rawSocket struct{ rc syscall.RawConn }

func (*rawSocket) init(net.Conn) bool          { return false }
func (*rawSocket) read([]byte) (int, error)    { return 0, nil }
func (*rawSocket) Write(p []byte) (int, error) { return len(p), nil }
