package router

import (
	"bufio"
	"io"
	"mime"
)

func bufioReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }

func mimeParse(v string) (string, map[string]string, error) { return mime.ParseMediaType(v) }
