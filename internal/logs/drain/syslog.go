package drain

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	jack "github.com/jack-paas/jack"
)

// Syslog messages are RFC 5424:
//
//	<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [jack@32473 app="" env="" process="" instance="" release="" stream=""] MSG
//
// with facility user; severity info, but err for stderr. APP-NAME is
// APP/ENV, PROCID the instance (web.1), MSGID the stream. The MSG is the
// line's bytes as written. On TCP and TLS each message is framed by octet
// counting (RFC 6587): its length in decimal, a space, the message.
const (
	facilityUser = 1
	severityErr  = 3
	severityInfo = 6
	// sdID names Jack's structured data; 32473 is the enterprise number
	// RFC 5612 reserves for documentation and examples.
	sdID = "jack@32473"
	// maxDatagram bounds a message over UDP; a longer line is cut.
	maxDatagram = 65000
)

// appendSyslog appends the RFC 5424 message of r to b. It allocates
// nothing: a drain formats every line a busy container writes.
func appendSyslog(b []byte, r *jack.LogRecord, hostname string) []byte {
	severity := severityInfo
	if r.Stream == jack.StreamStderr {
		severity = severityErr
	}
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(facilityUser*8+severity), 10)
	b = append(b, ">1 "...)
	b = appendStamp(b, r.Time)
	b = append(b, ' ')
	b = appendHeaderField(b, hostname, 255)
	b = append(b, ' ')
	b = appendHeaderFields(b, 48, r.App, "/", r.Env)
	b = append(b, ' ')
	// PROCID is r.Source(), without the string it may make.
	switch p, i := r.Process, r.Instance; {
	case i == "":
		b = appendHeaderField(b, p, 128)
	case len(i) > len(p) && i[:len(p)] == p && i[len(p)] == '.':
		b = appendHeaderField(b, i, 128)
	default:
		b = appendHeaderFields(b, 128, p, ".", i)
	}
	b = append(b, ' ')
	b = appendHeaderField(b, r.Stream, 32)
	b = append(b, " ["+sdID...)
	b = appendParam(b, "app", r.App)
	b = appendParam(b, "env", r.Env)
	b = appendParam(b, "process", r.Process)
	b = appendParam(b, "instance", r.Instance)
	b = append(b, ` release="`...)
	b = strconv.AppendInt(b, int64(r.Release), 10)
	b = append(b, '"')
	b = appendParam(b, "stream", r.Stream)
	b = append(b, "] "...)
	return append(b, r.Line...)
}

// appendParam appends ` name="value"`.
func appendParam(b []byte, name, value string) []byte {
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, `="`...)
	b = appendParamValue(b, value)
	return append(b, '"')
}

// appendStamp appends t as RFC 3339 UTC with microseconds, the date and
// time formatted once per second.
func appendStamp(b []byte, t time.Time) []byte {
	t = t.UTC()
	sec := t.Unix()
	prefix, _ := stampCache.Load().(*stampPrefix)
	if prefix == nil || prefix.sec != sec {
		prefix = &stampPrefix{sec: sec, text: t.Truncate(time.Second).AppendFormat(nil, "2006-01-02T15:04:05.")}
		stampCache.Store(prefix)
	}
	b = append(b, prefix.text...)
	micros := t.Nanosecond() / 1000
	for div := 100000; div > 0; div /= 10 {
		b = append(b, byte('0'+micros/div%10))
	}
	return append(b, 'Z')
}

// stampCache holds the formatted second of the last stamp.
var stampCache atomic.Value

type stampPrefix struct {
	sec  int64
	text []byte
}

// appendHeaderFields appends a header field made of a, sep and c joined,
// as appendHeaderField does.
func appendHeaderFields(b []byte, max int, a, sep, c string) []byte {
	if a == "" && c == "" {
		return append(b, '-')
	}
	start := len(b)
	b = appendHeaderField(b, a, max)
	if n := len(b) - start; n < max {
		b = appendHeaderField(b, sep, max-n)
		if n := len(b) - start; n < max && c != "" {
			b = appendHeaderField(b, c, max-n)
		}
	}
	return b
}

// appendHeaderField appends a header field: printable US-ASCII, at most
// max characters, "-" when empty.
func appendHeaderField(b []byte, s string, max int) []byte {
	if s == "" {
		return append(b, '-')
	}
	n := 0
	for i := 0; i < len(s) && n < max; i++ {
		c := s[i]
		if c < 33 || c > 126 {
			c = '_'
		}
		b = append(b, c)
		n++
	}
	return b
}

// appendParamValue appends a structured data value, escaping what RFC
// 5424 says to: '"', '\' and ']'.
func appendParamValue(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\', ']':
			b = append(b, '\\', c)
		default:
			b = append(b, c)
		}
	}
	return b
}

// localHostname returns this machine's name for syslog headers.
func localHostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "jack"
	}
	return strings.Fields(h)[0]
}

// udpSender sends each record as one datagram. UDP says nothing of what
// arrived: only errors the network reports (an unreachable port) fail a
// send.
type udpSender struct {
	addr string
	opts Options
	conn net.Conn
	buf  []byte
}

func (s *udpSender) Send(ctx context.Context, recs []*jack.LogRecord) error {
	if s.conn == nil {
		d := net.Dialer{Timeout: s.opts.timeout()}
		conn, err := d.DialContext(ctx, "udp", s.addr)
		if err != nil {
			return errorf(s.addr, err)
		}
		s.conn = conn
	}
	for _, r := range recs {
		s.buf = appendSyslog(s.buf[:0], r, s.opts.Hostname)
		if len(s.buf) > maxDatagram {
			s.buf = s.buf[:maxDatagram]
		}
		s.conn.SetWriteDeadline(time.Now().Add(s.opts.timeout()))
		if _, err := s.conn.Write(s.buf); err != nil {
			s.Close()
			return errorf(s.addr, err)
		}
	}
	return nil
}

func (s *udpSender) Close() error {
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}

// streamSender sends octet-counted messages over one TCP or TLS connection,
// made again after a failure.
type streamSender struct {
	addr string
	tls  bool
	host string
	opts Options
	conn net.Conn
	w    *bufio.Writer
	buf  []byte
}

func (s *streamSender) connect(ctx context.Context) error {
	d := &net.Dialer{Timeout: s.opts.timeout()}
	var conn net.Conn
	var err error
	if s.tls {
		td := &tls.Dialer{NetDialer: d, Config: tlsConfig(s.host, s.opts)}
		conn, err = td.DialContext(ctx, "tcp", s.addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", s.addr)
	}
	if err != nil {
		return errorf(s.addr, err)
	}
	s.conn, s.w = conn, bufio.NewWriterSize(conn, 64<<10)
	return nil
}

func (s *streamSender) Send(ctx context.Context, recs []*jack.LogRecord) error {
	if s.conn != nil && s.peerClosed() {
		s.Close()
	}
	if s.conn == nil {
		if err := s.connect(ctx); err != nil {
			return err
		}
	}
	s.conn.SetWriteDeadline(time.Now().Add(s.opts.timeout()))
	for _, r := range recs {
		s.buf = appendSyslog(s.buf[:0], r, s.opts.Hostname)
		s.w.WriteString(strconv.Itoa(len(s.buf)))
		s.w.WriteByte(' ')
		if _, err := s.w.Write(s.buf); err != nil {
			s.Close()
			return errorf(s.addr, err)
		}
	}
	if err := s.w.Flush(); err != nil {
		s.Close()
		return errorf(s.addr, err)
	}
	return nil
}

// peerClosed reports whether the server closed the connection: a syslog
// server never writes, so anything to read, or the end of the stream,
// means it is gone. Without this check, the next batch would go into a
// dead connection's buffer and be lost. The check does not wait.
func (s *streamSender) peerClosed() bool {
	conn := s.conn
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn()
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	err = raw.Read(func(fd uintptr) bool {
		closed = peekClosed(fd)
		return true // never wait for the socket to be readable
	})
	return closed || err != nil
}

func (s *streamSender) Close() error {
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn, s.w = nil, nil
	return err
}
