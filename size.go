package jack

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// ParseSize reads a size such as 10m, 512k or 1g (binary units) in bytes.
func ParseSize(s string) (int64, error) {
	n, err := parseMemory(s)
	if err != nil {
		return 0, Errorf(EINVALID, "%v", err)
	}
	return n, nil
}

// memoryRE matches a size: a number, then optionally k, m, g or t, an "i"
// and a "b", in any case: 512m, 1.5g, 256Mi, 2GiB, 1048576.
var memoryRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?) ?(?:([kmgt])i?)?b?$`)

// parseMemory reads a size in bytes; units are binary (1k = 1024).
func parseMemory(s string) (int64, error) {
	m := memoryRE.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return 0, fmt.Errorf("%q is not a size; write one like 512m or 1g", s)
	}
	number, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size; write one like 512m or 1g", s)
	}
	unit := map[string]float64{"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[m[2]]
	bytes := number * unit
	if bytes > 1<<53 {
		return 0, fmt.Errorf("%q is too large", s)
	} else if bytes != math.Trunc(bytes) {
		return 0, fmt.Errorf("%q is not a whole number of bytes; write one like 512m or 1g", s)
	}
	return int64(bytes), nil
}
