package logs

import (
	"context"
	"strconv"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
)

// BenchmarkAppend measures storing a container's short lines in batches of
// 256, per line.
func BenchmarkAppend(b *testing.B) {
	s, err := OpenStore(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	l, _ := s.Env("notes", "production")
	batch := make([]record, 256)
	at := time.Now().UnixNano()
	b.ResetTimer()
	for i := 0; i < b.N; i += len(batch) {
		for j := range batch {
			n := i + j
			batch[j] = record{Time: at + int64(n)*1000, Stream: jack.StreamStdout, Release: 1, Source: "abcdef012345",
				Process: "worker", Instance: "worker.1", Line: strconv.AppendInt(nil, int64(n), 10)}
		}
		if err := l.append(batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFollowLatency measures the time from an append to a following
// reader getting the record.
func BenchmarkFollowLatency(b *testing.B) {
	s, err := OpenStore(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	l, _ := s.Env("notes", "production")
	got := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Read(ctx, jack.LogQuery{App: "notes", Env: "production", Follow: true}, func(r *jack.LogRecord) error {
		if r != nil {
			got <- struct{}{}
		}
		return nil
	})
	time.Sleep(10 * time.Millisecond)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l.append([]record{{Time: time.Now().UnixNano(), Source: "c", Process: "web", Instance: "web.1", Line: []byte("x")}})
		<-got
	}
}
