package logs

import (
	"errors"
	"fmt"
	"os"
	"sort"
)

// iterator reads an environment's log forward from a position, one block
// at a time, so that its memory is a block however large the log.
type iterator struct {
	l     *envLog
	pos   Pos // of the next record
	until Pos // stop there; zero: read to the end, wherever it is then
	// skip, when set, tells which blocks need not be read (their time
	// range is outside the query's). The block still being written is
	// always read.
	skip func(b *blockInfo) bool

	buf    []byte // records from bufPos on
	bufPos Pos
	off    int // of the next record in buf
	start  Pos // of the record next returned last
}

// iterator returns an iterator from pos to until (zero: to the end).
func (l *envLog) iterator(from, until Pos, skip func(*blockInfo) bool) *iterator {
	return &iterator{l: l, pos: from, until: until, skip: skip}
}

// release lets go of the iterator's buffer.
func (it *iterator) release() { it.buf = nil }

// next returns the next record (valid until the next call) and the
// position after it; ok is false at the end of the log (for now).
func (it *iterator) next() (r rawRecord, after Pos, ok bool, err error) {
	for it.off >= len(it.buf) {
		if it.until != (Pos{}) && !it.pos.before(it.until) {
			return r, it.pos, false, nil
		}
		more, err := it.load()
		if err != nil || !more {
			return r, it.pos, false, err
		}
	}
	r, n, err := decodeRecord(it.buf[it.off:])
	if err != nil {
		return r, it.pos, false, fmt.Errorf("log of %s/%s at segment %d offset %d: %w", it.l.app, it.l.env, it.pos.Seq, it.pos.Off, err)
	}
	it.start = Pos{Seq: it.bufPos.Seq, Off: it.bufPos.Off + int64(it.off)}
	it.off += n
	it.pos = Pos{Seq: it.bufPos.Seq, Off: it.bufPos.Off + int64(it.off)}
	return r, it.pos, true, nil
}

// load reads the records from it.pos to the end of its block into buf;
// false when there are none yet.
func (it *iterator) load() (bool, error) {
	for attempt := 0; ; attempt++ {
		more, err := it.loadOnce()
		if errors.Is(err, os.ErrClosed) && attempt < 3 {
			continue // sealed or deleted while we looked: look again
		}
		return more, err
	}
}

func (it *iterator) loadOnce() (bool, error) {
	l := it.l
	l.filesMu.RLock()
	defer l.filesMu.RUnlock()
	for {
		l.mu.Lock()
		seg, last := l.segmentFrom(it.pos.Seq)
		if seg == nil {
			l.mu.Unlock()
			return false, nil
		}
		if seg.seq != it.pos.Seq {
			// Deleted by retention: go on with what is kept.
			it.pos = Pos{Seq: seg.seq}
		}
		if it.until != (Pos{}) && !it.pos.before(it.until) {
			l.mu.Unlock()
			return false, nil
		}
		if it.pos.Off >= seg.raw {
			l.mu.Unlock()
			if last {
				return false, nil
			}
			it.pos = Pos{Seq: seg.seq + 1}
			continue
		}
		i := sort.Search(len(seg.blocks), func(i int) bool { return seg.blocks[i].RawOff > it.pos.Off }) - 1
		b := seg.blocks[i]
		end := b.RawOff + b.RawLen
		if it.until.Seq == seg.seq && it.until.Off < end {
			end = it.until.Off
		}
		growing := last && i == len(seg.blocks)-1
		if !growing && it.skip != nil && it.skip(&b) {
			l.mu.Unlock()
			it.pos.Off = b.RawOff + b.RawLen
			continue
		}
		file, sealed := seg.file, seg.sealed
		l.mu.Unlock()
		buf, err := readBlock(file, sealed, b, it.pos.Off, end, it.buf)
		if err != nil {
			return false, fmt.Errorf("read log of %s/%s: %w", l.app, l.env, err)
		}
		if sealed && it.pos.Off+int64(len(buf)) > end {
			buf = buf[:end-it.pos.Off]
		}
		it.buf, it.bufPos, it.off = buf, it.pos, 0
		return len(buf) > 0, nil
	}
}

// segmentFrom returns the first segment numbered seq or later, and whether
// it is the active one. The caller holds l.mu.
func (l *envLog) segmentFrom(seq uint64) (*segment, bool) {
	i := sort.Search(len(l.segments), func(i int) bool { return l.segments[i].seq >= seq })
	if i == len(l.segments) {
		return nil, false
	}
	return l.segments[i], i == len(l.segments)-1
}

// blockRef is a block of a segment, for reading backward.
type blockRef struct {
	seq    uint64
	index  int
	info   blockInfo
	active bool
}

// lastMatches returns the position of the n-th last record before until
// that match accepts (the first record's position if fewer match), reading
// blocks backward, one at a time.
func (l *envLog) lastMatches(n int, until Pos, skip func(*blockInfo) bool, match func(*rawRecord) bool) (Pos, error) {
	l.mu.Lock()
	var refs []blockRef
	for si, s := range l.segments {
		if s.seq > until.Seq {
			break
		}
		for bi, b := range s.blocks {
			if s.seq == until.Seq && b.RawOff >= until.Off {
				break
			}
			refs = append(refs, blockRef{seq: s.seq, index: bi, info: b, active: si == len(l.segments)-1})
		}
	}
	first := Pos{Seq: l.segments[0].seq}
	l.mu.Unlock()

	found := 0
	var offsets []int64
	for i := len(refs) - 1; i >= 0; i-- {
		ref := refs[i]
		if !ref.active && skip != nil && skip(&ref.info) {
			continue
		}
		end := Pos{Seq: ref.seq, Off: ref.info.RawOff + ref.info.RawLen}
		if until.before(end) {
			end = until
		}
		it := l.iterator(Pos{Seq: ref.seq, Off: ref.info.RawOff}, end, nil)
		offsets = offsets[:0]
		for {
			r, _, ok, err := it.next()
			if err != nil {
				return Pos{}, err
			}
			if !ok {
				break
			}
			if match(&r) {
				offsets = append(offsets, it.start.Off)
			}
		}
		if it.pos.Seq != ref.seq {
			continue // the segment was deleted meanwhile
		}
		if found+len(offsets) >= n {
			return Pos{Seq: ref.seq, Off: offsets[len(offsets)-(n-found)]}, nil
		}
		found += len(offsets)
	}
	return first, nil
}
