package wait_test

import (
	"context"
	"testing"
	"time"

	"github.com/jack-paas/jack/internal/wait"
)

func TestSleepWaitsTheWholeDurationWhileTheContextLives(t *testing.T) {
	start := time.Now()
	if !wait.Sleep(context.Background(), 20*time.Millisecond) {
		t.Fatal("Sleep with a live context returned false")
	}
	if took := time.Since(start); took < 20*time.Millisecond {
		t.Fatalf("Sleep returned after %s, before its 20ms", took)
	}
}

func TestSleepEndsAsSoonAsTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan bool)
	go func() { done <- wait.Sleep(ctx, time.Hour) }()
	cancel()
	select {
	case live := <-done:
		if live {
			t.Fatal("Sleep reported a cancelled context as live")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Sleep did not return when its context was cancelled")
	}
}
