package jack

import (
	"strconv"
	"strings"
	"time"
)

// ParseLongDuration parses a duration as Go does (90m, 1h30m) and also in
// days (7d, 1d12h), which retention and --since are often given in.
func ParseLongDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil || n < 0 {
			return 0, Errorf(EINVALID, "%q is not a duration; give one like 90s, 15m, 2h or 3d", s)
		}
		days = time.Duration(n * float64(24*time.Hour))
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, Errorf(EINVALID, "%q is not a duration; give one like 90s, 15m, 2h or 3d", s)
	}
	return days + d, nil
}

// ParseByteSize parses a size such as 500m, 1g, 1.5GiB or 1048576 (bytes);
// k, m, g, t and p count in powers of 1024.
func ParseByteSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "ib"), "b")
	mult := int64(1)
	if n := len(t); n > 0 {
		if i := strings.IndexByte("kmgtp", t[n-1]); i >= 0 {
			mult = 1 << (10 * (i + 1))
			t = t[:n-1]
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 || f*float64(mult) > float64(1<<62) {
		return 0, Errorf(EINVALID, "%q is not a size; give one like 500m, 2g or 1.5GiB", s)
	}
	return int64(f * float64(mult)), nil
}

// ParseLogTime reads a --since or --until: a duration back from now (10m,
// 2h, 3d) or a time (RFC 3339, or "2006-01-02 15:04[:05]", "2006-01-02"
// and "15:04[:05]" today, in the local zone).
func ParseLogTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if d, err := ParseLongDuration(s); err == nil {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"15:04:05", "15:04"} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			y, m, d := now.Date()
			return time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), 0, now.Location()), nil
		}
	}
	return time.Time{}, Errorf(EINVALID, "%q is neither a duration nor a time; give one like 10m, 3d, 2025-03-01 12:00 or 2025-03-01T12:00:00Z", s)
}
