package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"time"
)

// spew prints the lines 1 to n, as fast as it can or at SPEW_RATE lines a
// second, each padded with SPEW_PAD bytes.
func spew(n int) {
	rate, _ := strconv.Atoi(os.Getenv("SPEW_RATE"))
	padBytes, _ := strconv.Atoi(os.Getenv("SPEW_PAD"))
	pad := ""
	if padBytes > 0 {
		pad = " " + strings.Repeat("x", padBytes-1)
	}
	w := bufio.NewWriterSize(os.Stdout, 64<<10)
	defer w.Flush()
	start := time.Now()
	var line []byte
	for i := 1; i <= n; i++ {
		line = strconv.AppendInt(line[:0], int64(i), 10)
		line = append(line, pad...)
		line = append(line, '\n')
		w.Write(line)
		if rate > 0 && i%max(1, rate/100) == 0 {
			// Keep to the rate in steps of a hundredth of a second.
			w.Flush()
			if ahead := time.Duration(i)*time.Second/time.Duration(rate) - time.Since(start); ahead > 0 {
				time.Sleep(ahead)
			}
		}
	}
}
