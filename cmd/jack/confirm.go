package main

import (
	"bufio"
	"fmt"
	"strings"
)

// confirm asks before deleting: --yes goes ahead; else a person at a
// terminal answers y/N; else (a script without --yes) it is a usage error,
// so nothing is deleted by accident.
func (c *cli) confirm(yes bool, question string) error {
	if yes {
		return nil
	}
	if !c.stdinIsTerminal() {
		return usageErrorf("refusing to delete without --yes")
	}
	fmt.Fprintf(c.stderr, "%s [y/N] ", question)
	answer, _ := bufio.NewReader(c.stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return fmt.Errorf("not deleted")
}
