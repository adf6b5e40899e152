package jack

import (
	"testing"
	"time"
)

func TestSchedules(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct{ spec, tz, from, next, prev string }{
		{"0 3 * * *", "", "2026-11-26T10:00:00Z", "2026-11-27T03:00:00Z", "2026-11-26T03:00:00Z"},
		{"*/15 * * * *", "", "2026-11-26T10:07:30Z", "2026-11-26T10:15:00Z", "2026-11-26T10:00:00Z"},
		{"30 9 * * mon-fri", "", "2026-11-27T10:00:00Z", "2026-11-30T09:30:00Z", "2026-11-27T09:30:00Z"}, // Friday
		{"0 0 1 jan *", "", "2026-11-26T00:00:00Z", "2027-01-01T00:00:00Z", "2026-01-01T00:00:00Z"},
		{"0 0 13 * 5", "", "2026-11-26T00:00:00Z", "2026-11-27T00:00:00Z", "2026-11-20T00:00:00Z"}, // the 13th or a Friday
		{"0 3 * * *", "Europe/Paris", "2026-11-26T10:00:00Z", "2026-11-27T02:00:00Z", "2026-11-26T02:00:00Z"},
		{"@hourly", "", "2026-11-26T10:00:00Z", "2026-11-26T11:00:00Z", "2026-11-26T10:00:00Z"},
		{"0 0 * * 7", "", "2026-11-26T00:00:00Z", "2026-11-29T00:00:00Z", "2026-11-22T00:00:00Z"}, // Sunday as 7
		{"@every 10m", "", "2026-11-26T10:07:00Z", "2026-11-26T10:10:00Z", "2026-11-26T10:00:00Z"},
		{"@every 3s", "", "2026-11-26T10:00:01Z", "2026-11-26T10:00:03Z", "2026-11-26T10:00:00Z"},
	} {
		s, err := ParseSchedule(tc.spec, tc.tz)
		if err != nil {
			t.Fatalf("%s: %v", tc.spec, err)
		}
		if got := s.Next(at(tc.from)); !got.Equal(at(tc.next)) {
			t.Errorf("%s (%s) Next(%s) = %s, want %s", tc.spec, tc.tz, tc.from, got.UTC(), tc.next)
		}
		if got := s.Prev(at(tc.from)); !got.Equal(at(tc.prev)) {
			t.Errorf("%s (%s) Prev(%s) = %s, want %s", tc.spec, tc.tz, tc.from, got.UTC(), tc.prev)
		}
	}
	for _, bad := range []string{"", "* * * *", "a * * * *", "5-1 * * * *", "*/0 * * * *", "* * 0 * *", "* * * 13 *", "@every", "@every -1m", "@often"} {
		if _, err := ParseSchedule(bad, ""); err == nil || ErrorCode(err) != EINVALID {
			t.Errorf("schedule %q: %v, want EINVALID", bad, err)
		}
	}
}
