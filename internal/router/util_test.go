package router

import (
	"bufio"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"os"
)

func bufioReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }

func mimeParse(v string) (string, map[string]string, error) { return mime.ParseMediaType(v) }

func readFileString(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

type x509Cert = x509.Certificate
