package router

import (
	"bufio"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"os"
	"strings"
	"testing"
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

// testLogger writes a router's log into the test's, shown when it fails.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testLogWriter struct{ t testing.TB }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
