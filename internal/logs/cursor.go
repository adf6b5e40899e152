package logs

import (
	"slices"
	"sort"
	"time"
)

// A cursor says how much of one source an environment's log holds, so that
// collection resumes exactly where it stopped: after a restart of the
// daemon, of the engine or of the container, no line is stored twice and
// none is skipped.
//
// For a container the engine only offers "every line stamped at or after
// T", in the order it stored them. Lines stamped alike are common (the
// chunks of a long line share a stamp), and stdout and stderr are stamped
// by two goroutines of the engine, so the stored order is not strictly
// that of the stamps. So the cursor keeps a floor F a little (cursorWindow)
// behind the newest line stored, and counts the stored lines stamped at or
// after F, per bucketWidth of time. Resuming asks for the lines from F: the
// engine sends first those already stored (the counts say how many of each
// bucket), then the new ones. Only a line stamped more than cursorWindow
// before one the engine stored earlier could be missed; the engine's two
// streams are never that far apart.
//
// For a source with positions (the router's access log, the event store)
// the cursor is the position after the last record stored.
type cursor struct {
	Floor   int64    `json:"floor,omitempty"`  // Unix ns, a multiple of bucketWidth
	Newest  int64    `json:"newest,omitempty"` // stamp of the newest line stored
	Buckets []bucket `json:"buckets,omitempty"`
	Pos     int64    `json:"pos,omitempty"`
}

// bucket counts the stored lines stamped within one bucketWidth.
type bucket struct {
	Index int64 `json:"i"` // stamp / bucketWidth
	N     int64 `json:"n"`
}

const (
	cursorWindow = time.Second
	bucketWidth  = int64(10 * time.Millisecond)
)

// add counts a stored record, stamped t, at position pos of its source
// (0 for a container).
func (c *cursor) add(t, pos int64) {
	if pos > 0 {
		c.Pos = max(c.Pos, pos)
		return
	}
	c.Newest = max(c.Newest, t)
	if t >= c.Floor {
		c.count(t / bucketWidth)
	}
	if c.Newest-c.Floor > 2*int64(cursorWindow) {
		c.raise((c.Newest - int64(cursorWindow)) / bucketWidth * bucketWidth)
	}
}

// count adds one line to the bucket with the index.
func (c *cursor) count(index int64) {
	n := len(c.Buckets)
	if n > 0 && c.Buckets[n-1].Index == index {
		c.Buckets[n-1].N++
		return
	}
	i := sort.Search(n, func(i int) bool { return c.Buckets[i].Index >= index })
	if i < n && c.Buckets[i].Index == index {
		c.Buckets[i].N++
		return
	}
	c.Buckets = slices.Insert(c.Buckets, i, bucket{Index: index, N: 1})
}

// raise moves the floor up to floor, forgetting the counts below it.
func (c *cursor) raise(floor int64) {
	c.Floor = floor
	i := sort.Search(len(c.Buckets), func(i int) bool { return c.Buckets[i].Index*bucketWidth >= floor })
	c.Buckets = append(c.Buckets[:0], c.Buckets[i:]...)
}

// since returns where to resume reading a container: the floor, or the zero
// time (from the first line) when nothing of it is stored.
func (c *cursor) since() time.Time {
	if c.Newest == 0 {
		return time.Time{}
	}
	return time.Unix(0, c.Floor).UTC()
}

// clone returns a copy that shares nothing with c.
func (c *cursor) clone() *cursor {
	cp := *c
	cp.Buckets = slices.Clone(c.Buckets)
	return &cp
}

// skipper tells, of the lines a resumed read returns, which the log holds
// already: the first ones, as many per bucket as the cursor counted.
type skipper struct {
	floor     int64
	remaining map[int64]int64
	total     int64
}

// skipper returns the skipper of a read resumed at c.since().
func (c *cursor) skipper() *skipper {
	s := &skipper{floor: c.Floor, remaining: make(map[int64]int64, len(c.Buckets))}
	for _, b := range c.Buckets {
		s.remaining[b.Index] = b.N
		s.total += b.N
	}
	return s
}

// skip reports whether the next line returned, stamped t, is stored
// already. Once one is not, none after it is.
func (s *skipper) skip(t int64) bool {
	if s.total == 0 {
		return false
	}
	if t < s.floor {
		// The engine sent a line from before the floor; it was stored
		// before the cursor's counts began.
		return true
	}
	b := t / bucketWidth
	if s.remaining[b] == 0 {
		s.total = 0 // the stored lines are behind: all the rest is new
		return false
	}
	s.remaining[b]--
	s.total--
	return true
}
