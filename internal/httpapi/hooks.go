package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"github.com/jack-paas/jack"
)

// AddHookRequest is the body of POST .../hooks.
type AddHookRequest struct {
	URL string `json:"url"`
	// Secret signs deliveries; one is made when empty.
	Secret string `json:"secret,omitempty"`
}

// HookView is a webhook as listings show it: without its secret, with how
// its last delivery went.
type HookView struct {
	*jack.Hook
	LastDelivery *jack.Delivery `json:"last_delivery,omitempty"`
}

// handleAddHook answers POST .../hooks with the new hook, its secret
// included: the only answer that shows it.
func (s *server) handleAddHook(w http.ResponseWriter, r *http.Request) error {
	var req AddHookRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if err := jack.ValidateHookURL(req.URL); err != nil {
		return err
	}
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	h := &jack.Hook{EnvID: env.ID, URL: req.URL, Secret: req.Secret}
	if h.Secret == "" {
		raw := make([]byte, 24)
		rand.Read(raw)
		h.Secret = "whsec_" + hex.EncodeToString(raw)
	}
	if err := s.store.CreateHook(r.Context(), h); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, h)
}

// handleListHooks answers GET .../hooks.
func (s *server) handleListHooks(w http.ResponseWriter, r *http.Request) error {
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	hooks, err := s.store.ListHooks(r.Context(), env.ID)
	if err != nil {
		return err
	}
	recent, err := s.store.ListDeliveries(r.Context(), env.ID, 200)
	if err != nil {
		return err
	}
	out := make([]HookView, 0, len(hooks))
	for _, h := range hooks {
		h.Secret = ""
		v := HookView{Hook: h}
		for _, d := range recent {
			if d.HookID == h.ID {
				v.LastDelivery = d
				break
			}
		}
		out = append(out, v)
	}
	return writeJSON(w, http.StatusOK, out)
}

// handleRemoveHook answers DELETE .../hooks/{id}.
func (s *server) handleRemoveHook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteHook(r.Context(), env.ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleListDeliveries answers GET .../deliveries?limit=N: the newest
// deliveries of the environment's hooks.
func (s *server) handleListDeliveries(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit", 20)
	if err != nil {
		return err
	}
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	list, err := s.store.ListDeliveries(r.Context(), env.ID, clampLimit(limit, 20, 500))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}
