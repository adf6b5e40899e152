package httpapi

import "github.com/jack-paas/jack"

// LogSettings is the answer of GET and PATCH .../logs/settings: how long
// and how much of an environment's log is kept, and what it holds now.
type LogSettings struct {
	Retention string        `json:"retention"` // a Go duration, e.g. "168h0m0s"
	MaxBytes  int64         `json:"max_bytes"`
	Usage     jack.LogUsage `json:"usage"`
}

// LogSettingsPatch is the body of PATCH .../logs/settings; empty fields
// stay as they are.
type LogSettingsPatch struct {
	Retention string `json:"retention,omitempty"` // 72h, 3d
	MaxBytes  int64  `json:"max_bytes,omitempty"`
}

// AddDrainRequest is the body of POST .../drains.
type AddDrainRequest struct {
	URL string `json:"url"`
}
