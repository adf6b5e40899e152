package logs

import (
	"runtime"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// niceOfThisThread returns the nice value of the calling thread.
func niceOfThisThread(t *testing.T) int {
	t.Helper()
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
	if err != nil {
		t.Fatal(err)
	}
	return 20 - prio // the system call answers 20 - nice
}

func TestSealingRunsAtALowPriorityThatNoOtherGoroutineInherits(t *testing.T) {
	var inside int
	atLowPriority(func() { inside = niceOfThisThread(t) })
	if inside != backgroundNice {
		t.Errorf("nice %d while sealing, want %d", inside, backgroundNice)
	}
	// Every thread the runtime hands goroutines to afterwards runs at the
	// process's priority.
	var wg sync.WaitGroup
	for range 4 * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			if n := niceOfThisThread(t); n != 0 {
				t.Errorf("a goroutine runs at nice %d after sealing", n)
			}
		}()
	}
	wg.Wait()
}
