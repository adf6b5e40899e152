package manifest

import (
	"errors"
	"regexp"
	"strings"

	"github.com/jack-paas/jack"
)

// procfileLineRE matches "name: command", as Heroku reads it.
var procfileLineRE = regexp.MustCompile(`^([A-Za-z0-9_.-]+)[ \t]*:[ \t]*(.*)$`)

// ParseProcfile reads a Heroku Procfile: one "name: command" a line, blank
// lines and # comments skipped. The "release" line is the release command;
// every other line is a process, with web getting HTTP traffic. A command
// that needs a shell ($PORT, &&, pipes) is run with /bin/sh -c, as Heroku
// does; any other is split into words and run as is.
func ParseProcfile(name string, data []byte) (*jack.Manifest, error) {
	if name == "" {
		name = "Procfile"
	}
	m := &jack.Manifest{Processes: map[string]*jack.Process{}}
	firstLine := map[string]int{}
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		match := procfileLineRE.FindStringSubmatch(line)
		if match == nil {
			return nil, jack.Errorf(jack.EINVALID, "%s:%d: expected \"NAME: COMMAND\", such as \"web: gunicorn app:wsgi\"", name, n)
		}
		proc, text := match[1], strings.TrimSpace(match[2])
		if first, ok := firstLine[proc]; ok {
			return nil, jack.Errorf(jack.EINVALID, "%s:%d: process %s is defined twice (first on line %d); keep one line per name", name, n, proc, first)
		}
		firstLine[proc] = n
		if err := jack.ValidateName("process", proc); err != nil {
			return nil, jack.Errorf(jack.EINVALID, "%s:%d: %s", name, n, jack.ErrorMessage(err))
		}
		if text == "" {
			return nil, jack.Errorf(jack.EINVALID, "%s:%d: %s has no command", name, n, proc)
		}
		command, err := procfileCommand(text)
		if err != nil {
			return nil, jack.Errorf(jack.EINVALID, "%s:%d: %s: the command %v", name, n, proc, err)
		}
		if proc == "release" {
			m.Release = command
			continue
		}
		m.Processes[proc] = &jack.Process{Command: command}
	}
	if len(m.Processes) == 0 {
		m.Processes = nil
	}
	if err := m.Validate(); err != nil {
		return nil, jack.Errorf(jack.EINVALID, "%s: %s", name, jack.ErrorMessage(err))
	}
	return m, nil
}

// procfileCommand returns a command's words, or [/bin/sh -c TEXT] when it
// needs a shell.
func procfileCommand(text string) ([]string, error) {
	words, err := splitWords(text)
	if err == nil {
		return words, nil
	}
	var shell *needsShellError
	if errors.As(err, &shell) {
		return []string{"/bin/sh", "-c", text}, nil
	}
	return nil, err
}
