package sqlite_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

func TestSlotDeathsAreReplacedPerSlotAndGoWithTheirEnvironment(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")
	env := mustCreateEnv(t, db, app, "production")
	other := mustCreateEnv(t, db, app, "staging")

	at := time.Date(2026, 11, 26, 5, 0, 0, 123456789, time.UTC)
	first := jack.SlotDeaths{Name: "web.1", Total: 1, Recent: []time.Time{at}, LastExit: "exited with code 1"}
	second := jack.SlotDeaths{Name: "web.1", Total: 2, Recent: []time.Time{at, at.Add(time.Second)}, LastExit: "was killed for using more memory than its limit"}
	worker := jack.SlotDeaths{Name: "worker.1", Total: 7, LastExit: "exited with code 137"}
	for _, d := range []jack.SlotDeaths{first, worker, second} {
		if err := db.SaveSlotDeaths(ctx, env.ID, d); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.ListSlotDeaths(ctx, env.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []jack.SlotDeaths{second, worker}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ListSlotDeaths = %+v, want %+v", got, want)
	}
	if got, _ := db.ListSlotDeaths(ctx, other.ID); len(got) != 0 {
		t.Errorf("another environment's records: %+v", got)
	}

	if err := db.SaveSlotDeaths(ctx, 9999, first); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Errorf("saving for a missing environment: %v, want ENOTFOUND", err)
	}
	if err := db.DeleteEnv(ctx, env.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := db.ListSlotDeaths(ctx, env.ID); err != nil || len(got) != 0 {
		t.Errorf("after the environment is deleted: %+v, %v", got, err)
	}
}
