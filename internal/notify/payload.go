package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	jack "github.com/jack-paas/jack"
)

// Payload is the JSON body of a delivery. Text makes it a valid Slack (and
// Mattermost, Discord /slack, Rocket.Chat) incoming-webhook message; the
// other fields are for programs.
type Payload struct {
	Text       string           `json:"text"`
	Event      string           `json:"event"`
	App        string           `json:"app"`
	Env        string           `json:"env"`
	Time       time.Time        `json:"time"`
	Deployment *jack.Deployment `json:"deployment,omitempty"`
	Health     *HealthChange    `json:"health,omitempty"`
}

// HealthChange is the health part of a health.changed payload.
type HealthChange struct {
	From   string   `json:"from"`
	To     string   `json:"to"`
	Causes []string `json:"causes"`
}

func (p Payload) encode() (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("encode webhook payload: %w", err)
	}
	return string(b), nil
}

// deployPayload describes a deployment notice in words.
func deployPayload(n jack.DeployNotice, now time.Time) Payload {
	d := n.Deployment
	ref := n.Env.Ref()
	var text string
	switch n.Event {
	case jack.HookDeployStarted:
		text = fmt.Sprintf("%s: deployment %d started (%s of release %d)", ref, d.ID, d.Kind, d.ReleaseNumber)
	case jack.HookDeploySucceeded:
		text = fmt.Sprintf("%s: deployment %d succeeded; release %d serves", ref, d.ID, d.ReleaseNumber)
	case jack.HookDeployFailed:
		text = fmt.Sprintf("%s: deployment %d of release %d failed: %s", ref, d.ID, d.ReleaseNumber, d.Reason)
	case jack.HookDeployRolledBack:
		if d.State == jack.DeploymentFailed {
			text = fmt.Sprintf("%s: rolled back; release %d serves again after deployment %d failed", ref, d.FromRelease, d.ID)
		} else {
			text = fmt.Sprintf("%s: rolled back; release %d serves (deployment %d)", ref, d.ReleaseNumber, d.ID)
		}
	default:
		text = fmt.Sprintf("%s: deployment %d %s", ref, d.ID, n.Event)
	}
	// Steps are for `jack deploy`; the payload says how it ended.
	cp := *d
	cp.Steps = nil
	return Payload{Text: text, Event: n.Event, App: n.Env.App, Env: n.Env.Name, Time: now, Deployment: &cp}
}

// healthPayload describes a health transition in words.
func healthPayload(env *jack.Environment, from string, h *jack.Health, now time.Time) Payload {
	text := fmt.Sprintf("%s health is %s (was %s)", env.Ref(), h.State, from)
	if len(h.Causes) > 0 {
		text += ": " + strings.Join(h.Causes, "; ")
	}
	return Payload{
		Text: text, Event: jack.HookHealthChanged, App: env.App, Env: env.Name, Time: now,
		Health: &HealthChange{From: from, To: h.State, Causes: h.Causes},
	}
}
