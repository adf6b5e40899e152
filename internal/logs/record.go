package logs

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"time"

	jack "github.com/jack-paas/jack"
)

// record is a LogRecord as an environment's log stores it; the app and
// environment are the log's. Source names where the record came from, for
// the collector's cursors: a container's short ID, "router:INODE" for the
// router's access log file, "events" for the platform's events; Pos is the
// record's position in that source when it has positions (the access log's
// byte offset after the line, an event's ID), else 0.
type record struct {
	Time     int64 // Unix nanoseconds
	Stream   string
	Release  int
	Source   string
	Pos      int64
	Process  string
	Instance string
	Line     []byte
}

// Stream codes on disk.
var (
	streamCodes = map[string]byte{jack.StreamStdout: 1, jack.StreamStderr: 2, jack.StreamEvent: 3, jack.StreamAccess: 4}
	streamNames = [...]string{"", jack.StreamStdout, jack.StreamStderr, jack.StreamEvent, jack.StreamAccess}
)

// The encoding of one record:
//
//	uvarint(len(body)) body crc32c(body)[4, little endian]
//	body: time[8, little endian] stream[1] uvarint(release) uvarint(pos)
//	      uvarint(len) source  uvarint(len) process  uvarint(len) instance  line...
//
// The checksum lets a log opened after a crash find where a torn write
// begins.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errCorrupt is a record that does not decode: the end of what a crash
// left whole.
var errCorrupt = errors.New("corrupt record")

// appendRecord appends r's encoding to b.
func appendRecord(b []byte, r *record) []byte {
	bodyLen := 8 + 1 + uvarintLen(uint64(r.Release)) + uvarintLen(uint64(r.Pos)) +
		uvarintLen(uint64(len(r.Source))) + len(r.Source) +
		uvarintLen(uint64(len(r.Process))) + len(r.Process) +
		uvarintLen(uint64(len(r.Instance))) + len(r.Instance) + len(r.Line)
	b = binary.AppendUvarint(b, uint64(bodyLen))
	start := len(b)
	b = binary.LittleEndian.AppendUint64(b, uint64(r.Time))
	b = append(b, streamCodes[r.Stream])
	b = binary.AppendUvarint(b, uint64(r.Release))
	b = binary.AppendUvarint(b, uint64(r.Pos))
	b = appendString(b, r.Source)
	b = appendString(b, r.Process)
	b = appendString(b, r.Instance)
	b = append(b, r.Line...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// rawRecord is a decoded record whose byte fields point into the block it
// was read from; valid as long as the block is.
type rawRecord struct {
	Time     int64
	Stream   byte
	Release  int
	Pos      int64
	Source   []byte
	Process  []byte
	Instance []byte
	Line     []byte
}

// decodeRecord decodes the record at the start of b and returns it with
// its encoded length. errCorrupt if b does not start with a whole, intact
// record.
func decodeRecord(b []byte) (rawRecord, int, error) {
	var r rawRecord
	bodyLen, n := binary.Uvarint(b)
	if n <= 0 || bodyLen < 10 || uint64(len(b)-n) < bodyLen+4 {
		return r, 0, errCorrupt
	}
	body := b[n : n+int(bodyLen)]
	total := n + int(bodyLen) + 4
	if binary.LittleEndian.Uint32(b[n+int(bodyLen):total]) != crc32.Checksum(body, castagnoli) {
		return r, 0, errCorrupt
	}
	r.Time = int64(binary.LittleEndian.Uint64(body))
	r.Stream = body[8]
	rest := body[9:]
	release, k := binary.Uvarint(rest)
	if k <= 0 {
		return r, 0, errCorrupt
	}
	rest = rest[k:]
	pos, k := binary.Uvarint(rest)
	if k <= 0 {
		return r, 0, errCorrupt
	}
	rest = rest[k:]
	r.Release, r.Pos = int(release), int64(pos)
	var ok bool
	if r.Source, rest, ok = cutBytes(rest); !ok {
		return r, 0, errCorrupt
	}
	if r.Process, rest, ok = cutBytes(rest); !ok {
		return r, 0, errCorrupt
	}
	if r.Instance, rest, ok = cutBytes(rest); !ok {
		return r, 0, errCorrupt
	}
	r.Line = rest
	return r, total, nil
}

// cutBytes splits a length-prefixed field off b.
func cutBytes(b []byte) ([]byte, []byte, bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return nil, nil, false
	}
	return b[k : k+int(n) : k+int(n)], b[k+int(n):], true
}

// toLogRecord copies a raw record into a LogRecord of the environment.
func (r *rawRecord) toLogRecord(app, env string) *jack.LogRecord {
	rec := &jack.LogRecord{
		Time: time.Unix(0, r.Time).UTC(), App: app, Env: env,
		Process: string(r.Process), Instance: string(r.Instance), Release: r.Release,
		Line: append([]byte(nil), r.Line...),
	}
	if int(r.Stream) < len(streamNames) {
		rec.Stream = streamNames[r.Stream]
	}
	if rec.Stream == jack.StreamStdout || rec.Stream == jack.StreamStderr {
		rec.Container = string(r.Source)
	}
	return rec
}
