package logs

import (
	"math/rand"
	"testing"
	"time"
)

// The engine's stamps of a container's lines, in the order it stored them:
// mostly rising, runs of equal stamps (the chunks of long lines), stderr
// lines stamped before the stdout line stored ahead of them, and pauses
// longer than the cursor's window.
func engineStamps(n int, seed int64) []int64 {
	r := rand.New(rand.NewSource(seed))
	at := time.Now().UnixNano()
	out := make([]int64, n)
	for i := range out {
		switch x := r.Intn(100); {
		case x < 30: // same stamp as the line before
		case x < 40:
			out[i] = at - int64(r.Intn(200))*int64(time.Millisecond) // skewed back, less than the window
			continue
		case x < 42:
			at += int64(3 * time.Second)
		default:
			at += int64(r.Intn(5000)) * int64(time.Microsecond)
		}
		out[i] = at
	}
	return out
}

// Cut the stored lines anywhere and resume as the collector does: the
// lines the resumed read stores are exactly the ones after the cut.
func TestResumingAtTheCursorStoresEachLineOnce(t *testing.T) {
	for seed := int64(1); seed <= 20; seed++ {
		stamps := engineStamps(400, seed)
		for cut := 0; cut <= len(stamps); cut++ {
			var c cursor
			for _, s := range stamps[:cut] {
				c.add(s, 0)
			}
			since := c.since()
			skip := c.skipper()
			var stored []int
			for i, s := range stamps {
				if !since.IsZero() && s < since.UnixNano() {
					continue // the engine sends only lines stamped at or after since
				}
				if skip.skip(s) {
					continue
				}
				stored = append(stored, i)
			}
			if len(stored) != len(stamps)-cut {
				t.Fatalf("seed %d, cut after %d lines: resuming stored %d lines, want %d", seed, cut, len(stored), len(stamps)-cut)
			}
			for k, i := range stored {
				if i != cut+k {
					t.Fatalf("seed %d, cut after %d lines: resuming stored line %d where %d was due", seed, cut, i, cut+k)
				}
			}
		}
	}
}

func TestCursorMemoryStaysSmallHoweverManyLines(t *testing.T) {
	var c cursor
	at := time.Now().UnixNano()
	for i := range 1_000_000 {
		c.add(at+int64(i)*int64(time.Microsecond), 0) // a million lines a second
	}
	if len(c.Buckets) > int(2*int64(cursorWindow)/bucketWidth)+1 {
		t.Fatalf("%d buckets after a million lines", len(c.Buckets))
	}
}
