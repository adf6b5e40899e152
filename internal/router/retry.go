package router

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
)

// canRetry reports whether the request can go to another upstream (or a
// new connection) after err: only requests without a body, since a body
// read once cannot be sent again; any of them when the connection could
// not be made, and GET, HEAD and OPTIONS also when it broke before the
// first byte of the response, so that an instance that dies abruptly costs no
// client an error.
func (f *flight) canRetry(err error) bool {
	if !f.bodyless || f.Err() != nil || f.upgrade != "" {
		return false
	}
	if isDialError(err) {
		return true
	}
	if !f.idempotent {
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) ||
		strings.Contains(err.Error(), "server closed idle connection")
}

// isDialError reports whether err is a failure to connect: nothing was
// sent.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
