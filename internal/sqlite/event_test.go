package sqlite_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

func TestAddEvent_SetsIDAndTime(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	env := mustCreateEnv(t, db, mustCreateApp(t, db, "notes"), "production")

	e := &jack.Event{EnvID: env.ID, Kind: "config", Message: "Set SECRET_KEY"}
	if err := db.AddEvent(ctx, e); err != nil {
		t.Fatal(err)
	}
	if e.ID == 0 || !e.Time.Equal(testNow) {
		t.Fatalf("after AddEvent: %+v", e)
	}
	given := time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)
	kept := &jack.Event{EnvID: env.ID, Time: given, Kind: "instance", Message: "web.1 died"}
	if err := db.AddEvent(ctx, kept); err != nil {
		t.Fatal(err)
	}
	events, err := db.ListEvents(ctx, env.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []*jack.Event{e, kept}; !reflect.DeepEqual(events, want) {
		t.Fatalf("ListEvents = %+v, want %+v", events, want)
	}
}

func TestListEvents_Paging(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")
	env := mustCreateEnv(t, db, app, "production")
	other := mustCreateEnv(t, db, app, "staging")

	var ids []int64
	for i := 0; i < 5; i++ {
		e := &jack.Event{EnvID: env.ID, Kind: "deploy", Message: "step"}
		if err := db.AddEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
		if err := db.AddEvent(ctx, &jack.Event{EnvID: other.ID, Kind: "deploy", Message: "elsewhere"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name    string
		afterID int64
		limit   int
		want    []int64
	}{
		{"last 2", 0, 2, ids[3:]},
		{"last, more than exist", 0, 50, ids},
		{"all", 0, 0, ids},
		{"after the first, 2", ids[0], 2, ids[1:3]},
		{"after the first, all", ids[0], 0, ids[1:]},
		{"after the newest", ids[4], 10, []int64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events, err := db.ListEvents(ctx, env.ID, tc.afterID, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			got := []int64{}
			for _, e := range events {
				got = append(got, e.ID)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
