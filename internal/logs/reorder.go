package logs

import (
	"container/heap"

	jack "github.com/jack-paas/jack"
)

// Bounds of the reorder window of a read.
const (
	reorderRecords = 4096
	reorderBytes   = 8 << 20
)

// reorder holds records until they can go out in the order of their
// stamps: when it holds more than reorderRecords or reorderBytes, the
// oldest goes; flush sends them all. Records stamped alike keep the order
// they came in.
type reorder struct {
	h     recordHeap
	bytes int
	seq   uint64
}

// push adds a record, sending the oldest to fn when the window is full.
func (w *reorder) push(r *jack.LogRecord, fn func(*jack.LogRecord) error) error {
	heap.Push(&w.h, heldRecord{r, w.seq})
	w.seq++
	w.bytes += len(r.Line)
	for w.h.Len() > reorderRecords || w.bytes > reorderBytes {
		if err := w.pop(fn); err != nil {
			return err
		}
	}
	return nil
}

// flush sends every record held, oldest first.
func (w *reorder) flush(fn func(*jack.LogRecord) error) error {
	for w.h.Len() > 0 {
		if err := w.pop(fn); err != nil {
			return err
		}
	}
	return nil
}

func (w *reorder) pop(fn func(*jack.LogRecord) error) error {
	r := heap.Pop(&w.h).(heldRecord).r
	w.bytes -= len(r.Line)
	return fn(r)
}

// heldRecord is a record in the window with its arrival number.
type heldRecord struct {
	r   *jack.LogRecord
	seq uint64
}

// recordHeap orders records by stamp, then arrival.
type recordHeap []heldRecord

func (h recordHeap) Len() int { return len(h) }
func (h recordHeap) Less(i, j int) bool {
	if !h[i].r.Time.Equal(h[j].r.Time) {
		return h[i].r.Time.Before(h[j].r.Time)
	}
	return h[i].seq < h[j].seq
}
func (h recordHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *recordHeap) Push(x any)   { *h = append(*h, x.(heldRecord)) }
func (h *recordHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = heldRecord{}
	*h = old[:len(old)-1]
	return x
}
