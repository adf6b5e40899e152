package jack

import (
	"context"
	"time"
)

// Event is something that happened to an environment, in words: a deploy
// step, an instance that died and was replaced, a config change.
type Event struct {
	ID      int64     `json:"id"`
	EnvID   int64     `json:"env_id"`
	Time    time.Time `json:"time"`
	Kind    string    `json:"kind"` // deploy, instance, config, scale, ...
	Message string    `json:"message"`
}

// EventStore keeps events.
type EventStore interface {
	// AddEvent stores an event and sets its ID.
	AddEvent(ctx context.Context, e *Event) error
	// ListEvents returns an environment's events with an ID above afterID,
	// oldest first, at most limit; afterID 0 and a limit give the last ones.
	ListEvents(ctx context.Context, envID, afterID int64, limit int) ([]*Event, error)
}
