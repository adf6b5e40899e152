package drain

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	jack "github.com/jack-paas/jack"
)

// httpsSender POSTs each batch as NDJSON: one record per line, as the API
// streams them. Any answer but 2xx fails the batch.
type httpsSender struct {
	url      string
	user     *url.Userinfo
	redacted string
	client   *http.Client
	buf      bytes.Buffer
}

func newHTTPSSender(u *url.URL, opts Options) *httpsSender {
	cp := *u
	user := cp.User
	cp.User = nil
	transport := &http.Transport{
		TLSClientConfig:     tlsConfig(u.Hostname(), opts),
		MaxIdleConnsPerHost: 2,
		ForceAttemptHTTP2:   true,
	}
	return &httpsSender{
		url: cp.String(), user: user, redacted: Redact(u.String()),
		client: &http.Client{Transport: transport, Timeout: opts.timeout()},
	}
}

func (s *httpsSender) Send(ctx context.Context, recs []*jack.LogRecord) error {
	s.buf.Reset()
	enc := json.NewEncoder(&s.buf)
	enc.SetEscapeHTML(false)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("encode record: %w", err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(s.buf.Bytes()))
	if err != nil {
		return fmt.Errorf("drain %s: %w", s.redacted, err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("User-Agent", "jack/"+jack.BuildVersion)
	if s.user != nil {
		password, _ := s.user.Password()
		req.SetBasicAuth(s.user.Username(), password)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("drain %s: %w", s.redacted, unwrapURL(err))
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("drain %s answered %s", s.redacted, resp.Status)
	}
	return nil
}

func (s *httpsSender) Close() error {
	s.client.CloseIdleConnections()
	return nil
}

// unwrapURL drops the "Post URL:" prefix net/http adds.
func unwrapURL(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}
