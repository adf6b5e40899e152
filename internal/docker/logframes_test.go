package docker

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strconv"
	"testing"
	"time"
)

// frames returns the engine's multiplexed log stream of n numbered lines.
func frames(n int) []byte {
	var b bytes.Buffer
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := 1; i <= n; i++ {
		payload := at.Add(time.Duration(i)*time.Microsecond).Format("2006-01-02T15:04:05.000000000Z07:00") + " " + strconv.Itoa(i) + "\n"
		hdr := [8]byte{1}
		binary.BigEndian.PutUint32(hdr[4:], uint32(len(payload)))
		b.Write(hdr[:])
		b.WriteString(payload)
	}
	return b.Bytes()
}

func TestFrameStreamReadsNumberedLines(t *testing.T) {
	s := newFrameStream(io.NopCloser(bytes.NewReader(frames(10000))), false)
	next := 1
	for {
		lines, err := s.Read()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			if string(l.Line) != strconv.Itoa(next) || l.Stream != "stdout" {
				t.Fatalf("line %d: %q %s", next, l.Line, l.Stream)
			}
			next++
		}
	}
	if next != 10001 {
		t.Fatalf("read %d lines", next-1)
	}
}

// BenchmarkFrameStream measures the parsing of the engine's stream, per line.
func BenchmarkFrameStream(b *testing.B) {
	data := frames(100000)
	b.SetBytes(int64(len(data)) / 100000)
	b.ResetTimer()
	n := 0
	for n < b.N {
		s := newFrameStream(io.NopCloser(bytes.NewReader(data)), false)
		for {
			lines, err := s.Read()
			if err != nil {
				break
			}
			n += len(lines)
		}
	}
}
