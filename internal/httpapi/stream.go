package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/wait"
)

// ndjson writes a stream of JSON values, one per line, flushing each so
// that the client sees it at once. A stream that fails after its first line
// ends with an ErrorResponse line, since the status is already sent.
type ndjson struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	enc *json.Encoder
}

// startNDJSON sends the headers of a stream. It lifts the server's write
// deadline, if any, since a stream lasts as long as the client wants.
func startNDJSON(w http.ResponseWriter) *ndjson {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // not every ResponseWriter supports deadlines
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	s := &ndjson{w: w, rc: rc, enc: json.NewEncoder(w)}
	_ = s.rc.Flush()
	return s
}

// send writes one line and flushes it.
func (s *ndjson) send(v any) error {
	if err := s.enc.Encode(v); err != nil {
		return err
	}
	return s.rc.Flush()
}

// fail ends the stream with an error line.
func (s *ndjson) fail(err error) {
	_ = s.send(ErrorResponse{Error: ErrorBody{Code: jack.ErrorCode(err), Message: jack.ErrorMessage(err)}})
}

// handleFindDeployment answers GET /v1/deployments/{id}, and with
// ?follow=1 streams the deployment each time it changes until it is done.
func (s *server) handleFindDeployment(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	follow, err := queryBool(r, "follow")
	if err != nil {
		return err
	}
	d, err := s.store.FindDeployment(r.Context(), id)
	if err != nil {
		return err
	}
	if !follow {
		return writeJSON(w, http.StatusOK, d)
	}
	stream := startNDJSON(w)
	if err := s.followDeployment(r.Context(), stream, d); err != nil && r.Context().Err() == nil {
		s.logger.Error("follow deployment", "deployment", id, "err", err)
		stream.fail(err)
	}
	return nil
}

// followDeployment sends d, then each new state of it, until it is done or
// ctx ends.
func (s *server) followDeployment(ctx context.Context, stream *ndjson, d *jack.Deployment) error {
	for {
		if err := stream.send(d); err != nil {
			return nil // the client went away
		}
		if d.Done() {
			return nil
		}
		next, err := s.orch.WaitDeployment(ctx, d.ID, len(d.Steps))
		if ctx.Err() != nil {
			return nil
		} else if err != nil {
			return err
		}
		if len(next.Steps) == len(d.Steps) && next.State == d.State {
			// WaitDeployment promises progress; should it return without
			// any, do not spin on it.
			if !wait.Sleep(ctx, s.pollInterval) {
				return nil
			}
		}
		d = next
	}
}

// handleEvents answers GET .../events?after=ID&limit=N, and with follow=1
// streams events as they are stored until the client goes away.
func (s *server) handleEvents(w http.ResponseWriter, r *http.Request) error {
	after, err := queryInt(r, "after", 0)
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit", 0)
	if err != nil {
		return err
	}
	follow, err := queryBool(r, "follow")
	if err != nil {
		return err
	}
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	n := clampLimit(limit, 50, 1000)
	events, err := s.store.ListEvents(r.Context(), env.ID, after, n)
	if err != nil {
		return err
	}
	if !follow {
		return writeJSON(w, http.StatusOK, nonNil(events))
	}
	stream := startNDJSON(w)
	if err := s.followEvents(r.Context(), stream, env.ID, after, events); err != nil && r.Context().Err() == nil {
		s.logger.Error("follow events", "env", env.Ref(), "err", err)
		stream.fail(err)
	}
	return nil
}

// followEvents sends events, then polls the store for ones newer than the
// last sent (or than after, while none was) until ctx ends.
func (s *server) followEvents(ctx context.Context, stream *ndjson, envID, after int64, events []*jack.Event) error {
	last := after
	for {
		for _, e := range events {
			if err := stream.send(e); err != nil {
				return nil // the client went away
			}
			last = e.ID
		}
		if !wait.Sleep(ctx, s.pollInterval) {
			return nil
		}
		var err error
		if events, err = s.store.ListEvents(ctx, envID, last, 1000); err != nil {
			return err
		}
	}
}
