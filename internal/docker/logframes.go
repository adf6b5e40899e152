package docker

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	jack "github.com/jack-paas/jack"
)

// The engine's log API, asked for timestamps, sends each message the log
// driver stored as one frame (8-byte header: stream, 3 zero bytes, length)
// holding "TIMESTAMP SP DATA". A line up to 16 KiB is one message ending in
// a newline. A longer one was split by the engine into 16 KiB chunks that
// share the first chunk's timestamp; every chunk but the last lacks the
// newline. (Docker 20.10's local driver also drops the newline of the last
// chunk, which is then shorter than 16 KiB.) A container that exits in the
// middle of a line leaves a short chunk without newline.
const (
	// chunkSize is the size of the chunks the engine splits long lines into.
	chunkSize = 16 << 10
	// batchBytes bounds the lines one Read returns.
	batchBytes = 256 << 10
	// readBuffer is the buffer on the engine's stream.
	readBuffer = 64 << 10
)

// frameStream is a jack.LogStream on the engine's multiplexed log stream
// (or its raw stream for a container with a TTY).
type frameStream struct {
	rc  io.ReadCloser
	br  *bufio.Reader
	tty bool

	lines lineJoiner
	err   error // to return once the lines read before it are delivered

	frame []byte // a frame too large for br, read whole
}

func newFrameStream(rc io.ReadCloser, tty bool) *frameStream {
	return &frameStream{rc: rc, br: bufio.NewReaderSize(rc, readBuffer), tty: tty}
}

// Close ends the stream.
func (s *frameStream) Close() error { return s.rc.Close() }

// FollowIsFragile says that the engine's follow may lose or repeat lines
// when its files rotate under a reader that is behind (Docker 20.10's
// does): the collector reads without following while it is behind.
func (s *frameStream) FollowIsFragile() bool { return true }

// Read returns the next lines: at least one, plus those whose frames have
// arrived whole already, up to batchBytes.
func (s *frameStream) Read() ([]jack.LogLine, error) {
	if s.err != nil {
		return nil, s.err
	}
	s.lines.reset()
	for len(s.lines.lines) == 0 || (s.lines.size() < batchBytes && s.frameReady()) {
		var err error
		if s.tty {
			err = s.readTTYLine()
		} else {
			err = s.readFrame()
		}
		if err != nil {
			s.lines.flush()
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = fmt.Errorf("the engine's log stream broke: %w", err)
			}
			s.err = err
			if len(s.lines.lines) > 0 {
				return s.lines.lines, nil
			}
			return nil, err
		}
	}
	return s.lines.lines, nil
}

// frameReady reports whether a whole frame (or TTY line) is buffered, so
// that reading it won't wait.
func (s *frameStream) frameReady() bool {
	n := s.br.Buffered()
	if s.tty {
		b, _ := s.br.Peek(n)
		return bytes.IndexByte(b, '\n') >= 0
	}
	if n < 8 {
		return false
	}
	hdr, _ := s.br.Peek(8)
	return n >= 8+int(binary.BigEndian.Uint32(hdr[4:8]))
}

// readFrame reads one frame and adds its data to the lines.
func (s *frameStream) readFrame() error {
	hdr, err := s.br.Peek(8)
	if err != nil {
		if err == io.EOF && len(hdr) > 0 {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	kind, size := hdr[0], int(binary.BigEndian.Uint32(hdr[4:8]))
	s.br.Discard(8)
	var payload []byte
	if size <= s.br.Size() {
		if payload, err = s.br.Peek(size); err != nil {
			return unexpected(err)
		}
		defer s.br.Discard(size)
	} else {
		s.frame = grow(s.frame[:0], size)[:size]
		if _, err := io.ReadFull(s.br, s.frame); err != nil {
			return unexpected(err)
		}
		payload = s.frame
	}
	var stream string
	switch kind {
	case 1:
		stream = jack.StreamStdout
	case 2:
		stream = jack.StreamStderr
	case 3:
		return fmt.Errorf("the engine reported an error in the log stream: %s", bytes.TrimSpace(payload))
	default:
		return fmt.Errorf("the engine's log stream has a frame of unknown kind %d", kind)
	}
	at, data, err := splitTimestamp(payload)
	if err != nil {
		return err
	}
	// A message ends its line when it ends in a newline, or when it is
	// shorter than a chunk (see above).
	ends := len(data) > 0 && data[len(data)-1] == '\n'
	if ends {
		data = data[:len(data)-1]
	}
	s.lines.add(at, stream, data, ends || len(data) < chunkSize)
	return nil
}

// readTTYLine reads one line of a TTY container's raw stream. Chunks can't
// be told apart there, so a line the engine split comes as several.
func (s *frameStream) readTTYLine() error {
	line, err := s.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// Longer than the buffer: keep the rest for the next line.
		err = nil
	} else if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = nil
		} else {
			return err
		}
	}
	at, data, perr := splitTimestamp(line)
	if perr != nil {
		return perr
	}
	data = bytes.TrimSuffix(bytes.TrimSuffix(data, []byte("\n")), []byte("\r"))
	s.lines.add(at, jack.StreamStdout, data, true)
	return nil
}

// splitTimestamp splits "2006-01-02T15:04:05.000000000Z data" into the
// time and the data.
func splitTimestamp(b []byte) (time.Time, []byte, error) {
	if t, ok := parseFixedTimestamp(b); ok {
		return t, b[31:], nil
	}
	sp := bytes.IndexByte(b, ' ')
	if sp < 0 {
		return time.Time{}, nil, fmt.Errorf("the engine's log stream has a message without timestamp: %.40q", b)
	}
	t, err := time.Parse(time.RFC3339Nano, string(b[:sp]))
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("the engine's log stream has a bad timestamp %.40q: %w", b[:sp], err)
	}
	return t.UTC(), b[sp+1:], nil
}

// parseFixedTimestamp parses the engine's fixed-width UTC timestamp
// followed by a space, without allocating.
func parseFixedTimestamp(b []byte) (time.Time, bool) {
	if len(b) < 31 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' ||
		b[19] != '.' || b[29] != 'Z' || b[30] != ' ' {
		return time.Time{}, false
	}
	num := func(from, to int) (int, bool) {
		n := 0
		for _, c := range b[from:to] {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 7)
	day, ok3 := num(8, 10)
	hour, ok4 := num(11, 13)
	minute, ok5 := num(14, 16)
	sec, ok6 := num(17, 19)
	nsec, ok7 := num(20, 29)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// grow returns b with room for n bytes.
func grow(b []byte, n int) []byte {
	if cap(b) >= n {
		return b
	}
	return make([]byte, 0, n)
}
