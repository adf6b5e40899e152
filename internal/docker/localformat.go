package docker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	jack "github.com/jack-paas/jack"
	"google.golang.org/protobuf/encoding/protowire"
)

// The local log driver's files hold one record per message the engine
// stored: a 4-byte big-endian size, a protobuf LogEntry of that size (the
// message type of Docker's log plugin API,
// api/types/plugins/logdriver/entry.proto), and the size again, so that the
// files can be read from either end. The engine writes a record with one
// write(2).
//
//	message LogEntry {
//	  string source = 1;                 // "stdout" or "stderr"
//	  int64 time_nano = 2;
//	  bytes line = 3;                    // without its newline
//	  bool partial = 4;                  // a chunk of a longer line
//	  PartialLogEntryMetadata partial_log_metadata = 5;
//	}
//	message PartialLogEntryMetadata { bool last = 1; string id = 2; int32 ordinal = 3; }
const (
	// recordFrame is the size fields around a record's message.
	recordFrame = 8
	// maxRecordBytes bounds a record: the engine splits lines at 16 KiB,
	// and its own reader refuses messages over 1 MB.
	maxRecordBytes = 1 << 20
	// recordBuffer is the initial read buffer of a file.
	recordBuffer = 256 << 10
)

// errLogFormat says that a file is not in the format Jack reads: the
// engine changed it, or the file is damaged. The runtime then reads
// through the engine's API instead.
var errLogFormat = errors.New("not in the local log driver's format")

// localEntry is a decoded record. line points into the reader's buffer.
type localEntry struct {
	stream  string // jack.StreamStdout or jack.StreamStderr
	time    int64  // Unix ns
	line    []byte
	partial bool // a chunk of a longer line...
	last    bool // ... and its last one
}

// ends reports whether the entry's line ends with it.
func (e *localEntry) ends() bool { return !e.partial || e.last }

// decodeLocalEntry decodes a record's message into e.
func decodeLocalEntry(b []byte, e *localEntry) error {
	*e = localEntry{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: %v", errLogFormat, protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			var v []byte
			v, n = protowire.ConsumeBytes(b)
			switch string(v) {
			case "stdout":
				e.stream = jack.StreamStdout
			case "stderr":
				e.stream = jack.StreamStderr
			default:
				return fmt.Errorf("%w: a record of stream %.20q", errLogFormat, v)
			}
		case num == 2 && typ == protowire.VarintType:
			var v uint64
			v, n = protowire.ConsumeVarint(b)
			e.time = int64(v)
		case num == 3 && typ == protowire.BytesType:
			e.line, n = protowire.ConsumeBytes(b)
		case num == 4 && typ == protowire.VarintType:
			var v uint64
			v, n = protowire.ConsumeVarint(b)
			e.partial = v != 0
		case num == 5 && typ == protowire.BytesType:
			var meta []byte
			meta, n = protowire.ConsumeBytes(b)
			if n >= 0 {
				if err := decodePartialMeta(meta, e); err != nil {
					return err
				}
			}
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("%w: %v", errLogFormat, protowire.ParseError(n))
		}
		b = b[n:]
	}
	if e.stream == "" || e.time <= 0 {
		return fmt.Errorf("%w: a record without stream or time", errLogFormat)
	}
	return nil
}

// decodePartialMeta reads the last field of a chunk's metadata.
func decodePartialMeta(b []byte, e *localEntry) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: %v", errLogFormat, protowire.ParseError(n))
		}
		b = b[n:]
		if num == 1 && typ == protowire.VarintType {
			var v uint64
			v, n = protowire.ConsumeVarint(b)
			e.last = v != 0
		} else {
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("%w: %v", errLogFormat, protowire.ParseError(n))
		}
		b = b[n:]
	}
	return nil
}

// recordReader reads the records of one file, which may still grow: at its
// end (or in the middle of a record the engine is writing) next returns
// io.EOF, and a later call returns what was written since.
type recordReader struct {
	r          io.Reader
	buf        []byte
	start, end int // the unread bytes are buf[start:end]
}

func newRecordReader(r io.Reader, buf []byte) *recordReader {
	if cap(buf) < recordBuffer {
		buf = make([]byte, recordBuffer)
	}
	return &recordReader{r: r, buf: buf[:cap(buf)]}
}

// next returns the next record's message, valid until the next call;
// io.EOF when no whole record follows yet; errLogFormat when the bytes are
// not a record.
func (rr *recordReader) next() ([]byte, error) {
	for {
		need := 4
		if rr.end-rr.start >= 4 {
			size := int(binary.BigEndian.Uint32(rr.buf[rr.start:]))
			if size == 0 || size > maxRecordBytes {
				return nil, fmt.Errorf("%w: a record of %d bytes", errLogFormat, size)
			}
			need = size + recordFrame
			if rr.end-rr.start >= need {
				msg := rr.buf[rr.start+4 : rr.start+4+size]
				if trailer := int(binary.BigEndian.Uint32(rr.buf[rr.start+4+size:])); trailer != size {
					return nil, fmt.Errorf("%w: a record of %d bytes ends with size %d", errLogFormat, size, trailer)
				}
				rr.start += need
				return msg, nil
			}
		}
		if err := rr.fill(need); err != nil {
			return nil, err
		}
	}
}

// fill reads once, with room for at least need unread bytes; io.EOF when
// nothing more could be read.
func (rr *recordReader) fill(need int) error {
	if rr.start > 0 && (rr.start == rr.end || len(rr.buf)-rr.start < need) {
		rr.end = copy(rr.buf, rr.buf[rr.start:rr.end])
		rr.start = 0
	}
	if len(rr.buf)-rr.start < need {
		buf := make([]byte, need+recordBuffer)
		rr.end = copy(buf, rr.buf[rr.start:rr.end])
		rr.buf, rr.start = buf, 0
	}
	n, err := rr.r.Read(rr.buf[rr.end:])
	rr.end += n
	if n > 0 {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return io.EOF
	}
	return err
}
