package router

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
)

// retryTransport sends a request again to another upstream of its route
// when the first could not be reached, so that an instance that dies
// abruptly costs no client an error. Only requests without a body are sent
// again: any of them when the connection failed, and GET, HEAD and OPTIONS
// also when it broke before the first response byte.
type retryTransport struct {
	proxy *Proxy
	base  http.RoundTripper
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	f := flightOf(req.Context())
	if f == nil {
		return t.base.RoundTrip(req)
	}
	for {
		resp, err := t.base.RoundTrip(req)
		if err == nil {
			f.target.state.markAnswered()
			return resp, nil
		}
		if isDialError(err) {
			f.target.state.markFailed()
		}
		if !f.canRetry(err) {
			return nil, err
		}
		failed := f.target.addr
		if !t.proxy.reacquire(f) {
			return nil, err
		}
		t.proxy.logger.Debug("retrying on another upstream", "host", f.host, "failed", failed, "upstream", f.target.addr, "err", err)
		retry := *req
		u := *req.URL
		u.Host = f.target.addr
		retry.URL = &u
		req = &retry
	}
}

// reacquire moves f from the upstream that failed it to another one of its
// route, and reports whether there was one.
func (p *Proxy) reacquire(f *flight) bool {
	failed := f.target
	f.tried = append(f.tried, failed.state)
	p.release(f)
	return p.acquire(f) == acquired
}

// canRetry reports whether the request can go to another upstream after
// err.
func (f *flight) canRetry(err error) bool {
	if !f.bodyless || f.Err() != nil {
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
		strings.Contains(err.Error(), "server closed idle connection")
}

// isDialError reports whether err is a failure to connect: nothing was
// sent.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
