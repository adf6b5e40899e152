package docker

import (
	"time"

	jack "github.com/jack-paas/jack"
)

// maxLineBytes bounds a line held in memory; a longer line is returned as
// several lines of this size.
const maxLineBytes = 2 << 20

// lineJoiner turns the messages of a container's log driver into lines.
// The engine stores a line of up to 16 KiB as one message; it splits a
// longer one into chunks that share the first chunk's stamp and stream.
// Both readers of the engine's logs (its API and the local driver's files)
// feed their messages here, so that they return the same lines.
type lineJoiner struct {
	lines []jack.LogLine
	arena []byte // the bytes of lines, reused after each reset

	// pending is a line being joined from chunks.
	pending       []byte
	pendingTime   time.Time
	pendingStream string
	hasPending    bool
}

// reset forgets the lines returned so far (a pending line stays).
func (j *lineJoiner) reset() { j.lines, j.arena = j.lines[:0], j.arena[:0] }

// size returns how many bytes the lines hold.
func (j *lineJoiner) size() int { return len(j.arena) }

// add adds one message's data (without its newline): a whole line, or a
// chunk of one; ends says whether the line ends with it.
func (j *lineJoiner) add(at time.Time, stream string, data []byte, ends bool) {
	if j.hasPending && (!at.Equal(j.pendingTime) || stream != j.pendingStream) {
		// Not a chunk of the pending line: that one ended without newline.
		j.flush()
	}
	if ends && !j.hasPending {
		j.emit(at, stream, data)
		return
	}
	if !j.hasPending {
		j.hasPending, j.pendingTime, j.pendingStream = true, at, stream
	}
	for len(j.pending)+len(data) > maxLineBytes {
		// Too long to hold: return it in pieces.
		n := maxLineBytes - len(j.pending)
		j.pending = append(j.pending, data[:n]...)
		data = data[n:]
		j.emit(at, stream, j.pending)
		j.pending = j.pending[:0]
	}
	j.pending = append(j.pending, data...)
	if ends {
		j.flush()
	}
}

// flush adds the pending line, if any, to the lines.
func (j *lineJoiner) flush() {
	if !j.hasPending {
		return
	}
	j.emit(j.pendingTime, j.pendingStream, j.pending)
	j.pending, j.hasPending = j.pending[:0], false
	if cap(j.pending) > 4*chunkSize {
		j.pending = nil // don't keep a huge line's buffer
	}
}

// emit adds a line, copying its bytes into the arena.
func (j *lineJoiner) emit(at time.Time, stream string, data []byte) {
	start := len(j.arena)
	j.arena = append(j.arena, data...)
	j.lines = append(j.lines, jack.LogLine{Time: at, Stream: stream, Line: j.arena[start:len(j.arena):len(j.arena)]})
}
