package logs

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// backgroundNice is the nice value of the thread that compresses sealed
// segments: against the apps, the collector and the drains it gets about a
// tenth of a busy core (the scheduler's weights for nice 10 and 0 are 110
// and 1024), and all of an idle one.
const backgroundNice = 10

// atLowPriority runs fn on an OS thread of its own whose CPU priority is
// lowered, and returns when fn does. Compressing a full segment is work
// that can wait, and while a container writes flat out it would take CPU
// from the container and from the collector that must keep up with it.
// (On Linux the nice value belongs to a thread; the goroutine keeps its
// thread to the end, and a thread left locked ends with its goroutine, so
// the lowered priority never reaches other goroutines.)
func atLowPriority(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: see above
		unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), backgroundNice)
		fn()
	}()
	<-done
}
