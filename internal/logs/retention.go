package logs

import (
	"os"
	"time"

	jack "github.com/jack-paas/jack"
)

// segmentMaxAge is how long the active segment takes records before it is
// sealed, whatever its size, so that retention by age frees space in
// steps of at most this much time.
const segmentMaxAge = time.Hour

// segmentLimit returns the size at which a log with these settings seals
// its active segment: small enough next to the log's limit that deleting
// whole segments keeps it close to it.
func segmentLimit(s jack.LogSettings) int64 {
	return max(64<<10, min(defaultSegmentBytes, s.MaxBytes/8))
}

// enforce deletes the sealed segments whose newest record is older than
// the retention, then the oldest sealed ones while the log is larger than
// its limit. It returns how many records went.
func (l *envLog) enforce(now time.Time, s jack.LogSettings) int64 {
	s = s.WithDefaults()
	l.rotateIfOlder(now, min(segmentMaxAge, s.Retention))
	cutoff := now.Add(-s.Retention).UnixNano()

	l.mu.Lock()
	var total int64
	for _, seg := range l.segments {
		total += seg.size
	}
	var gone []*segment
	kept := l.segments[:0:0]
	for i, seg := range l.segments {
		active := i == len(l.segments)-1
		_, newest := seg.timeRange()
		switch {
		case active || !seg.sealed:
			kept = append(kept, seg)
		case newest < cutoff:
			gone = append(gone, seg)
			total -= seg.size
		default:
			kept = append(kept, seg)
		}
	}
	// Then by size, oldest first; never the active segment.
	for len(kept) > 1 && total > s.MaxBytes && kept[0].sealed {
		gone = append(gone, kept[0])
		total -= kept[0].size
		kept = kept[1:]
	}
	l.segments = kept
	if len(gone) > 0 {
		l.dirty = true // the snapshot may point into a deleted segment
	}
	l.mu.Unlock()

	var records int64
	l.filesMu.Lock()
	for _, seg := range gone {
		seg.file.Close()
		records += seg.records()
	}
	l.filesMu.Unlock()
	for _, seg := range gone {
		os.Remove(segmentPath(l.dir, seg.seq, true))
	}
	return records
}
