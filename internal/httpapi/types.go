package httpapi

import "github.com/jack-paas/jack"

// The request and response bodies of the API that are not domain types. The
// client package re-exports them, so they are the wire contract.

// ErrorResponse is the body of every error answer.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is a jack.Error on the wire.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Health is the answer of GET /v1/health.
type Health struct {
	OK      bool   `json:"ok"`
	Version string `json:"version"`
}

// CreateAppRequest is the body of POST /v1/apps.
type CreateAppRequest struct {
	Name string `json:"name"`
}

// CreateEnvRequest is the body of POST /v1/apps/{app}/envs.
type CreateEnvRequest struct {
	Name     string   `json:"name"`
	Tier     string   `json:"tier,omitempty"` // web when empty
	Domains  []string `json:"domains,omitempty"`
	Strategy string   `json:"strategy,omitempty"`
	// Edge sets how the router treats its traffic; unset fields keep the
	// defaults.
	Edge jack.EdgeChange `json:"edge,omitempty"`
}

// Env is an environment as the API shows it: with its default URL, and
// without its config values.
type Env struct {
	*jack.Environment
	// URL is http://ENV.APP.SUFFIX[:PORT]; empty for a worker environment,
	// which gets no HTTP traffic.
	URL string `json:"url"`
}

// RollbackRequest is the body of POST .../rollback.
type RollbackRequest struct {
	// To is the release to roll back to; 0 for the one that served before
	// the current one.
	To int `json:"to"`
	// ReleaseOptions skip or force the release command, which otherwise
	// runs only when the version changes.
	jack.ReleaseOptions
}

// ConfigPatch is the body of PATCH .../config. SetBase64 carries values
// that are not valid UTF-8, which a JSON string cannot hold.
type ConfigPatch struct {
	Set       map[string]string `json:"set,omitempty"`
	SetBase64 map[string]string `json:"set_base64,omitempty"`
	Unset     []string          `json:"unset,omitempty"`
}

// ChangeResponse answers a config or scale change: the deployment that
// rolls it out, or Stored when nothing runs yet and the change waits for
// the first deploy.
type ChangeResponse struct {
	Deployment *jack.Deployment `json:"deployment"`
	Stored     bool             `json:"stored,omitempty"`
}

// ConfigList is the answer of GET .../config: every key, values masked.
type ConfigList struct {
	Config map[string]string `json:"config"`
}

// ConfigValue is the answer of GET .../config/{key}: one value, revealed.
// Value is omitted when the value is not valid UTF-8; Base64 always holds
// the exact bytes.
type ConfigValue struct {
	Key    string `json:"key"`
	Value  string `json:"value,omitempty"`
	Base64 string `json:"base64"`
}

// RestartRequest is the body of POST .../restart.
type RestartRequest struct {
	Process string `json:"process"` // "" restarts every process
}

// Status is the answer of GET .../status: an environment at a glance.
type Status struct {
	Env *Env   `json:"env"`
	URL string `json:"url"`
	// Release is the release that serves; nil before the first successful
	// deployment. Version and Image are its version's label and image.
	Release *jack.Release `json:"release"`
	Version string        `json:"version"`
	Image   string        `json:"image"`
	// State is the state of the last deployment, "" when there was none.
	State string `json:"state"`
	// Instances counts the instances of each process by state.
	Instances      map[string]map[string]int `json:"instances"`
	LastDeployment *jack.Deployment          `json:"last_deployment"`
	// Health is the environment's health with its causes; nil when the
	// server collects no metrics.
	Health *jack.Health `json:"health,omitempty"`
}
