package httpapi

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"github.com/jack-paas/jack"
)

// The run stream. POST .../runs with "Connection: Upgrade" and "Upgrade:
// jack-run" and a RunRequest body is answered "101 Switching Protocols"
// once the container runs; then both sides send frames on the connection
// until the server sends the exit frame and closes it. A frame is a type
// byte, a big-endian uint32 length and that many bytes.
const (
	RunUpgrade = "jack-run"

	// Client to server.
	FrameStdin      byte = 'i' // bytes for the command's standard input
	FrameStdinClose byte = 'c' // end of standard input
	FrameResize     byte = 'r' // JSON jack.TermSize
	FrameStop       byte = 's' // Ctrl-C: stop the container

	// Server to client.
	FrameStdout byte = 'o'
	FrameStderr byte = 'e'
	FrameExit   byte = 'x' // JSON RunExit; the last frame
)

// maxFrame bounds a frame's payload.
const maxFrame = 1 << 20

// RunExit is the last frame of a run stream: the run as stored, with its
// exit code, or the error that ended it.
type RunExit struct {
	Run   *jack.Run  `json:"run,omitempty"`
	Error *ErrorBody `json:"error,omitempty"`
}

// FrameWriter writes frames; it is safe for concurrent use.
type FrameWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// NewFrameWriter returns a FrameWriter on w.
func NewFrameWriter(w io.Writer) *FrameWriter { return &FrameWriter{w: w} }

// WriteFrame writes one frame.
func (f *FrameWriter) WriteFrame(kind byte, payload []byte) error {
	var head [5]byte
	head[0] = kind
	binary.BigEndian.PutUint32(head[1:], uint32(len(payload)))
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.w.Write(append(head[:], payload...)); err != nil {
		return err
	}
	return nil
}

// Stream returns a writer whose every write is one frame of kind, split
// as needed to stay within the frame limit.
func (f *FrameWriter) Stream(kind byte) io.Writer {
	return streamWriter{f, kind}
}

type streamWriter struct {
	f    *FrameWriter
	kind byte
}

func (s streamWriter) Write(b []byte) (int, error) {
	for off := 0; off < len(b); off += maxFrame {
		if err := s.f.WriteFrame(s.kind, b[off:min(off+maxFrame, len(b))]); err != nil {
			return off, err
		}
	}
	return len(b), nil
}

// ReadFrame reads one frame.
func ReadFrame(r io.Reader) (byte, []byte, error) {
	var head [5]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(head[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("run stream: a frame of %d bytes is over the limit", n)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	return head[0], payload, nil
}
