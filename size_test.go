package jack

import "testing"

func TestParseMemory(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"1048576", 1 << 20},
		{"100b", 100},
		{"512k", 512 << 10},
		{"512K", 512 << 10},
		{"512kb", 512 << 10},
		{"512m", 512 << 20},
		{"512M", 512 << 20},
		{"512MB", 512 << 20},
		{"256Mi", 256 << 20},
		{"256MiB", 256 << 20},
		{"256 Mi", 256 << 20},
		{"1g", 1 << 30},
		{"1G", 1 << 30},
		{"1GiB", 1 << 30},
		{"1.5g", 3 << 29},
		{"0.5m", 512 << 10},
		{"2t", 2 << 40},
	} {
		got, err := parseMemory(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseMemory(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "m", "-1m", "1.5", "1.5b", "1x", "1 g b", "1mm", "1ib", "1e9", "99999999t"} {
		if got, err := parseMemory(in); err == nil {
			t.Errorf("parseMemory(%q) = %d, want an error", in, got)
		}
	}
}
