package logs

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// An environment's log is a sequence of segment files, numbered in the
// order they were written. The newest is the active one, "SEQ.log": records
// appended as they are, readable at once. A full one is sealed into
// "SEQ.seg": its records cut into blocks of about blockTarget bytes, each
// compressed on its own, with an index at the end (each block's offsets,
// record count and time range), so that a reader decompresses only the
// blocks whose time range it wants.
const (
	blockTarget  = 256 << 10
	segmentMagic = "JACKSEG1"
	logExt       = ".log"
	segExt       = ".seg"
)

// blockInfo is one block of a segment: where its records are in the
// segment's uncompressed stream (Raw*) and in the file (File*; equal for
// the active segment), how many there are, their time range, and which
// processes wrote them (a bit per process name's hash), so that a read of
// one process skips the blocks of a chatty other one.
type blockInfo struct {
	RawOff, RawLen   int64
	FileOff, FileLen int64
	MinTime, MaxTime int64
	Records          int64
	Processes        uint64
}

// processBit returns the bit of a process name in blockInfo.Processes.
func processBit(process []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range process {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return 1 << (h % 64)
}

// segment is what an environment's log knows of one segment file. Its
// fields change under the log's mutex.
type segment struct {
	seq    uint64
	sealed bool
	file   *os.File
	size   int64 // bytes on disk
	raw    int64 // bytes of records
	blocks []blockInfo
}

// segmentPath returns the path of segment seq in dir.
func segmentPath(dir string, seq uint64, sealed bool) string {
	ext := logExt
	if sealed {
		ext = segExt
	}
	return filepath.Join(dir, fmt.Sprintf("%016d%s", seq, ext))
}

// parseSegmentName returns the sequence number and kind of a segment file
// name; ok is false for other files.
func parseSegmentName(name string) (seq uint64, sealed, ok bool) {
	base, ext := strings.TrimSuffix(name, filepath.Ext(name)), filepath.Ext(name)
	if ext != logExt && ext != segExt || len(base) != 16 {
		return 0, false, false
	}
	seq, err := strconv.ParseUint(base, 10, 64)
	return seq, ext == segExt, err == nil
}

func (s *segment) records() int64 {
	var n int64
	for _, b := range s.blocks {
		n += b.Records
	}
	return n
}

// timeRange returns the oldest and newest stamps in the segment.
func (s *segment) timeRange() (int64, int64) {
	if len(s.blocks) == 0 {
		return 0, 0
	}
	lo, hi := s.blocks[0].MinTime, s.blocks[0].MaxTime
	for _, b := range s.blocks[1:] {
		lo, hi = min(lo, b.MinTime), max(hi, b.MaxTime)
	}
	return lo, hi
}

// note accounts for a record of n bytes stamped t of process appended to
// the active segment at offset off.
func (s *segment) note(off int64, n int, t int64, process []byte) {
	last := len(s.blocks) - 1
	if last < 0 || s.blocks[last].RawLen >= blockTarget {
		s.blocks = append(s.blocks, blockInfo{RawOff: off, FileOff: off, MinTime: t, MaxTime: t})
		last++
	}
	b := &s.blocks[last]
	b.RawLen += int64(n)
	b.FileLen = b.RawLen
	b.MinTime, b.MaxTime = min(b.MinTime, t), max(b.MaxTime, t)
	b.Records++
	b.Processes |= processBit(process)
}

// openActive opens an unsealed segment file for appending, rebuilding its
// block index from its records and cutting off a torn tail.
func openActive(path string, seq uint64) (*segment, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open segment: %w", err)
	}
	s := &segment{seq: seq, file: f}
	end, err := scanRecords(f, func(off int64, r *rawRecord, n int) { s.note(off, n, r.Time, r.Process) })
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read segment %s: %w", path, err)
	}
	if fi, err := f.Stat(); err == nil && fi.Size() > end {
		// A write the crash tore: drop it; the collector reads it again.
		if err := f.Truncate(end); err != nil {
			f.Close()
			return nil, fmt.Errorf("cut the torn end of segment %s: %w", path, err)
		}
	}
	s.raw, s.size = end, end
	return s, nil
}

// scanRecords calls fn with each whole record of an uncompressed segment
// file and returns where the whole records end.
func scanRecords(f *os.File, fn func(off int64, r *rawRecord, n int)) (int64, error) {
	buf := make([]byte, 0, 1<<20)
	var off int64 // file offset of buf[0]
	eof := false
	for {
		if !eof {
			if cap(buf)-len(buf) < 64<<10 {
				nb := make([]byte, len(buf), max(2*cap(buf), len(buf)+1<<20))
				copy(nb, buf)
				buf = nb
			}
			n, err := f.ReadAt(buf[len(buf):cap(buf)], off+int64(len(buf)))
			buf = buf[:len(buf)+n]
			if err == io.EOF {
				eof = true
			} else if err != nil {
				return 0, err
			}
		}
		p := 0
		for p < len(buf) {
			r, n, err := decodeRecord(buf[p:])
			if err != nil {
				break
			}
			fn(off+int64(p), &r, n)
			p += n
		}
		if eof && (p == len(buf) || p == 0) {
			return off + int64(p), nil
		}
		off += int64(p)
		buf = append(buf[:0], buf[p:]...)
		if eof {
			// What is left does not decode even with the whole file read.
			return off, nil
		}
	}
}

// openSealed opens a sealed segment and reads its index.
func openSealed(path string, seq uint64) (*segment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open segment: %w", err)
	}
	s, err := readIndex(f, seq)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read the index of segment %s: %w", path, err)
	}
	return s, nil
}

// readIndex reads a sealed segment's footer: the index, its length and
// the magic.
func readIndex(f *os.File, seq uint64) (*segment, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	tail := make([]byte, 4+len(segmentMagic))
	if size < int64(len(tail)) {
		return nil, errors.New("too short")
	}
	if _, err := f.ReadAt(tail, size-int64(len(tail))); err != nil {
		return nil, err
	}
	if string(tail[4:]) != segmentMagic {
		return nil, errors.New("no segment magic at its end")
	}
	indexLen := int64(binary.LittleEndian.Uint32(tail))
	if indexLen > size-int64(len(tail)) {
		return nil, errors.New("index longer than the file")
	}
	index := make([]byte, indexLen)
	if _, err := f.ReadAt(index, size-int64(len(tail))-indexLen); err != nil {
		return nil, err
	}
	s := &segment{seq: seq, sealed: true, file: f, size: size}
	count, n := binary.Uvarint(index)
	if n <= 0 {
		return nil, errors.New("bad index")
	}
	index = index[n:]
	for range count {
		var b blockInfo
		vals := []*int64{&b.RawOff, &b.RawLen, &b.FileOff, &b.FileLen, &b.MinTime, &b.MaxTime, &b.Records}
		for _, v := range vals {
			x, n := binary.Varint(index)
			if n <= 0 {
				return nil, errors.New("bad index")
			}
			*v, index = x, index[n:]
		}
		procs, n := binary.Uvarint(index)
		if n <= 0 {
			return nil, errors.New("bad index")
		}
		b.Processes, index = procs, index[n:]
		s.blocks = append(s.blocks, b)
		s.raw = b.RawOff + b.RawLen
	}
	return s, nil
}

// flateWriters and flateReaders are reused across blocks: each holds
// hundreds of KiB of state.
var (
	flateWriters = sync.Pool{New: func() any { w, _ := flate.NewWriter(nil, flate.BestSpeed); return w }}
	flateReaders = sync.Pool{New: func() any { return flate.NewReader(bytes.NewReader(nil)) }}
)

// seal writes the sealed form of an unsealed segment (its file and block
// index) to dir and returns it opened. The unsealed file is left for the
// caller to remove once the sealed one is in use.
func seal(dir string, s *segment) (*segment, error) {
	final := segmentPath(dir, s.seq, true)
	tmp := final + ".tmp"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create sealed segment: %w", err)
	}
	defer os.Remove(tmp) // after a successful rename, a no-op
	if err := writeSealed(out, s); err != nil {
		out.Close()
		return nil, fmt.Errorf("seal segment %d: %w", s.seq, err)
	}
	if err := out.Close(); err != nil {
		return nil, fmt.Errorf("seal segment %d: %w", s.seq, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return nil, fmt.Errorf("seal segment %d: %w", s.seq, err)
	}
	syncDir(dir)
	return openSealed(final, s.seq)
}

// writeSealed compresses each block of s into out, then writes the index.
func writeSealed(out *os.File, s *segment) error {
	w := flateWriters.Get().(*flate.Writer)
	defer flateWriters.Put(w)
	var raw []byte
	var compressed bytes.Buffer
	var fileOff int64
	blocks := make([]blockInfo, len(s.blocks))
	for i, b := range s.blocks {
		raw = grow(raw[:0], int(b.RawLen))[:b.RawLen]
		if _, err := s.file.ReadAt(raw, b.RawOff); err != nil {
			return fmt.Errorf("read block: %w", err)
		}
		compressed.Reset()
		w.Reset(&compressed)
		w.Write(raw)
		if err := w.Close(); err != nil {
			return err
		}
		if _, err := out.Write(compressed.Bytes()); err != nil {
			return err
		}
		b.FileOff, b.FileLen = fileOff, int64(compressed.Len())
		fileOff += b.FileLen
		blocks[i] = b
	}
	index := binary.AppendUvarint(nil, uint64(len(blocks)))
	for _, b := range blocks {
		for _, v := range []int64{b.RawOff, b.RawLen, b.FileOff, b.FileLen, b.MinTime, b.MaxTime, b.Records} {
			index = binary.AppendVarint(index, v)
		}
		index = binary.AppendUvarint(index, b.Processes)
	}
	index = binary.LittleEndian.AppendUint32(index, uint32(len(index)))
	index = append(index, segmentMagic...)
	if _, err := out.Write(index); err != nil {
		return err
	}
	return out.Sync()
}

// readBlock returns the uncompressed records of block b of a segment whose
// file is f, in buf (grown as needed); for an unsealed segment, only the
// bytes from rawOff to end are read.
func readBlock(f *os.File, sealed bool, b blockInfo, from, end int64, buf []byte) ([]byte, error) {
	if !sealed {
		n := end - from
		buf = grow(buf[:0], int(n))[:n]
		if _, err := f.ReadAt(buf, from); err != nil {
			return nil, err
		}
		return buf, nil
	}
	compressed := make([]byte, b.FileLen)
	if _, err := f.ReadAt(compressed, b.FileOff); err != nil {
		return nil, err
	}
	r := flateReaders.Get().(io.ReadCloser)
	defer flateReaders.Put(r)
	r.(flate.Resetter).Reset(bytes.NewReader(compressed), nil)
	buf = grow(buf[:0], int(b.RawLen))[:b.RawLen]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("decompress block: %w", err)
	}
	return buf[from-b.RawOff:], nil
}

// grow returns b emptied with room for n bytes.
func grow(b []byte, n int) []byte {
	if cap(b) >= n {
		return b[:0]
	}
	return make([]byte, 0, n)
}

// syncDir flushes a folder's entries (a rename, a new file) to disk.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
