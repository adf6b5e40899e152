package manifest

import (
	"errors"
	"fmt"
	"strings"
)

// shellOnly are the characters that mean something only to a shell when
// they are not quoted: expansion, pipes, lists, redirection, subshells.
const shellOnly = "$`|&;<>()"

// splitWords splits a command line into words as a POSIX shell does before
// it expands anything: blanks separate words; single quotes keep everything
// up to the next single quote; double quotes keep everything but $ and `,
// with backslash escaping $ ` " \ and a newline; a backslash outside quotes
// keeps the next character, and a backslash-newline joins two lines. A
// character that would need a shell to act on it is an error, since the
// words are run without one.
func splitWords(line string) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord := false // a word has begun, perhaps with "" and nothing else
	endWord := func() {
		if inWord {
			words = append(words, word.String())
			word.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			endWord()
		case c == '\\':
			if i+1 == len(line) {
				return nil, errors.New("ends with a backslash that escapes nothing")
			}
			i++
			if line[i] != '\n' {
				word.WriteByte(line[i])
				inWord = true
			}
		case c == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("has a single quote that is not closed")
			}
			word.WriteString(line[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			inWord = true
			for i++; ; i++ {
				if i == len(line) {
					return nil, errors.New("has a double quote that is not closed")
				}
				c := line[i]
				if c == '"' {
					break
				} else if c == '\\' && i+1 < len(line) && strings.IndexByte("$`\"\\\n", line[i+1]) >= 0 {
					i++
					if line[i] != '\n' {
						word.WriteByte(line[i])
					}
					continue
				} else if c == '$' || c == '`' {
					return nil, needsShell(c)
				}
				word.WriteByte(c)
			}
		case strings.IndexByte(shellOnly, c) >= 0:
			return nil, needsShell(c)
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	endWord()
	return words, nil
}

func needsShell(c byte) error { return &needsShellError{c} }

// needsShellError is a command with a character only a shell acts on.
type needsShellError struct{ c byte }

func (e *needsShellError) Error() string {
	return fmt.Sprintf("%c needs a shell, and Jack runs the command without one; "+
		"write it as a list such as [sh, -c, \"...\"], or escape it with a backslash", e.c)
}
