package jack_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

func TestLogRecordJSONKeepsBytesThatAreNotText(t *testing.T) {
	in := &jack.LogRecord{Time: time.Date(2025, 3, 1, 12, 0, 0, 1, time.UTC), App: "notes", Env: "production",
		Process: "web", Instance: "web.1", Stream: "stdout", Line: []byte("caf\xe9 \xff")}
	buf, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(buf), "\"line\":\"caf\uFFFD \uFFFD\"") || !strings.Contains(string(buf), `"raw":`) {
		t.Fatalf("JSON %s: want the text with replacement characters and the raw bytes", buf)
	}
	var out jack.LogRecord
	if err := json.Unmarshal(buf, &out); err != nil {
		t.Fatal(err)
	}
	if string(out.Line) != string(in.Line) || !out.Time.Equal(in.Time) {
		t.Fatalf("round trip %+v", out)
	}
	buf, _ = json.Marshal(&jack.LogRecord{Line: []byte("plain")})
	if strings.Contains(string(buf), "raw") {
		t.Fatalf("JSON of a text line has raw: %s", buf)
	}
}

func TestLogRecordSourceIsProcessDotInstance(t *testing.T) {
	for _, c := range []struct{ process, instance, want string }{
		{"web", "web.1", "web.1"}, {"jack", "deploy", "jack.deploy"}, {"router", "", "router"},
	} {
		r := jack.LogRecord{Process: c.process, Instance: c.instance}
		if got := r.Source(); got != c.want {
			t.Errorf("Source of %s/%s = %q, want %q", c.process, c.instance, got, c.want)
		}
	}
}

func TestParseLogTimesDurationsAndSizes(t *testing.T) {
	now := time.Date(2025, 3, 10, 15, 30, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"10m":                  now.Add(-10 * time.Minute),
		"3d":                   now.Add(-72 * time.Hour),
		"1d12h":                now.Add(-36 * time.Hour),
		"2025-03-01T12:00:00Z": time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		"2025-03-01 12:00":     time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		"2025-03-01":           time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
		"09:15":                time.Date(2025, 3, 10, 9, 15, 0, 0, time.UTC),
	} {
		got, err := jack.ParseLogTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseLogTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"yesterday", "-5m", "2025-13-01", ""} {
		if _, err := jack.ParseLogTime(bad, now); jack.ErrorCode(err) != jack.EINVALID {
			t.Errorf("ParseLogTime(%q): %v, want EINVALID", bad, err)
		}
	}
	for in, want := range map[string]int64{"500m": 500 << 20, "1g": 1 << 30, "1.5GiB": 3 << 29, "2048": 2048, "10MB": 10 << 20} {
		if got, err := jack.ParseByteSize(in); err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"lots", "-1m", "1x"} {
		if _, err := jack.ParseByteSize(bad); err == nil {
			t.Errorf("ParseByteSize(%q) accepted", bad)
		}
	}
}

func TestLogSettingsBounds(t *testing.T) {
	for _, s := range []jack.LogSettings{{Retention: time.Minute}, {MaxBytes: 1000}, {Retention: 20 * 365 * 24 * time.Hour}} {
		if err := s.Validate(); jack.ErrorCode(err) != jack.EINVALID {
			t.Errorf("settings %+v: %v, want EINVALID", s, err)
		}
	}
	if d := (jack.LogSettings{}).WithDefaults(); d.Retention != 7*24*time.Hour || d.MaxBytes != 1<<30 {
		t.Errorf("defaults %+v", d)
	}
}
