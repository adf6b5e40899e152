package httpapi

import (
	"encoding/base64"
	"net/http"
	"unicode/utf8"

	"github.com/jack-paas/jack"
)

// handleListConfig answers GET .../config: every key with its value masked.
func (s *server) handleListConfig(w http.ResponseWriter, r *http.Request) error {
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	masked := make(map[string]string, len(env.Config))
	for k, v := range env.Config {
		masked[k] = jack.MaskValue(v)
	}
	return writeJSON(w, http.StatusOK, ConfigList{Config: masked})
}

// handleGetConfig answers GET .../config/{key}: the one value asked for,
// revealed.
func (s *server) handleGetConfig(w http.ResponseWriter, r *http.Request) error {
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	key := r.PathValue("key")
	v, ok := env.Config[key]
	if !ok {
		return jack.Errorf(jack.ENOTFOUND, "config var %q is not set on %s; list them with `jack config %s`", key, env.Ref(), env.Ref())
	}
	out := ConfigValue{Key: key, Base64: base64.StdEncoding.EncodeToString([]byte(v))}
	if utf8.ValidString(v) {
		out.Value = v
	}
	return writeJSON(w, http.StatusOK, out)
}

// handlePatchConfig answers PATCH .../config: it validates every key and
// value, then has the orchestrator store the change and roll it out.
func (s *server) handlePatchConfig(w http.ResponseWriter, r *http.Request) error {
	var patch ConfigPatch
	if err := readJSON(w, r, &patch); err != nil {
		return err
	}
	set, unset, err := patch.changes()
	if err != nil {
		return err
	}
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	d, err := s.orch.SetConfig(r.Context(), env.App, env.Name, set, unset)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ChangeResponse{Deployment: d, Stored: d == nil})
}

// changes returns the patch as the vars to set and the keys to unset,
// after checking that each key and value is valid and named once.
func (p *ConfigPatch) changes() (set map[string]string, unset []string, err error) {
	set = make(map[string]string, len(p.Set)+len(p.SetBase64))
	for k, v := range p.Set {
		set[k] = v
	}
	for k, encoded := range p.SetBase64 {
		if _, dup := set[k]; dup {
			return nil, nil, jack.Errorf(jack.EINVALID, "config key %s is in both set and set_base64; give it once", k)
		}
		v, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			return nil, nil, jack.Errorf(jack.EINVALID, "set_base64 value of %s is not standard base64", k)
		}
		set[k] = string(v)
	}
	for k, v := range set {
		if err := jack.ValidateConfigKey(k); err != nil {
			return nil, nil, err
		}
		if err := jack.ValidateConfigValue(k, v); err != nil {
			return nil, nil, err
		}
	}
	seen := make(map[string]bool, len(p.Unset))
	for _, k := range p.Unset {
		if err := jack.ValidateConfigKey(k); err != nil {
			return nil, nil, err
		}
		if _, both := set[k]; both {
			return nil, nil, jack.Errorf(jack.EINVALID, "config key %s is both set and unset; give it once", k)
		}
		if !seen[k] {
			seen[k] = true
			unset = append(unset, k)
		}
	}
	if len(set) == 0 && len(unset) == 0 {
		return nil, nil, jack.Errorf(jack.EINVALID, "nothing to change; give KEY=VALUE to set or KEY to unset")
	}
	return set, unset, nil
}
