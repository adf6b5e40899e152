package deploy

import (
	"bytes"
	"io"
	"strings"
	"sync"
)

// tailWriter keeps the last max lines written to it.
type tailWriter struct {
	mu      sync.Mutex
	max     int
	partial []byte
	kept    []string
}

func (t *tailWriter) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partial = append(t.partial, b...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			if len(t.partial) > maxLineBytes {
				t.add(string(t.partial[:maxLineBytes]))
				t.partial = t.partial[maxLineBytes:]
				continue
			}
			return len(b), nil
		}
		t.add(string(t.partial[:i]))
		t.partial = t.partial[i+1:]
	}
}

func (t *tailWriter) add(line string) {
	t.kept = append(t.kept, strings.TrimRight(line, "\r"))
	if len(t.kept) > t.max {
		t.kept = t.kept[len(t.kept)-t.max:]
	}
}

// lines returns the lines kept, with a last one that had no newline.
func (t *tailWriter) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string(nil), t.kept...)
	if len(t.partial) > 0 {
		out = append(out, string(t.partial))
	}
	if len(out) > t.max {
		out = out[len(out)-t.max:]
	}
	return out
}

// teeWriter writes to w (when not nil) and to the tail; a failing w (the
// client gone) does not stop the tail.
func teeWriter(w io.Writer, tail *tailWriter) io.Writer {
	if w == nil {
		return tail
	}
	return writerFunc(func(b []byte) (int, error) {
		tail.Write(b)
		w.Write(b)
		return len(b), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
