package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/client"
	"github.com/jack-paas/jack/internal/httpapi/httpapitest"
)

func TestHooks_AddListRemove(t *testing.T) {
	srv, c := newAPI(t)
	ctx := context.Background()
	mustEnv(t, c, "notes", "production")

	h, err := c.AddHook(ctx, "notes", "production", client.AddHookRequest{URL: "https://hooks.example.com/a"})
	if err != nil {
		t.Fatal(err)
	}
	if h.ID == 0 || !strings.HasPrefix(h.Secret, "whsec_") || len(h.Secret) < 30 {
		t.Fatalf("added hook %+v; want an ID and a generated secret", h)
	}
	if _, err := c.AddHook(ctx, "notes", "production", client.AddHookRequest{URL: "https://hooks.example.com/a"}); jack.ErrorCode(err) != jack.ECONFLICT {
		t.Errorf("same URL again: %v; want ECONFLICT", err)
	}
	for _, bad := range []string{"ftp://x/y", "not a url", "https://user:pw@x/y", ""} {
		if _, err := c.AddHook(ctx, "notes", "production", client.AddHookRequest{URL: bad}); jack.ErrorCode(err) != jack.EINVALID {
			t.Errorf("URL %q: %v; want EINVALID", bad, err)
		}
	}
	list, err := c.ListHooks(ctx, "notes", "production")
	if err != nil || len(list) != 1 || list[0].Secret != "" || list[0].URL != "https://hooks.example.com/a" {
		t.Fatalf("ListHooks = %+v, %v; want the hook without its secret", list, err)
	}
	if status, body := do(t, "GET", srv.URL+"/v1/apps/notes/envs/production/hooks", httpapitest.Token, ""); status != 200 || strings.Contains(body, h.Secret) {
		t.Errorf("listing shows the secret: %d %s", status, body)
	}
	if err := c.RemoveHook(ctx, "notes", "production", h.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveHook(ctx, "notes", "production", h.ID); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Errorf("remove twice: %v; want ENOTFOUND", err)
	}
	if d, err := c.ListDeliveries(ctx, "notes", "production", 10); err != nil || len(d) != 0 {
		t.Errorf("deliveries = %v, %v", d, err)
	}
}

func TestHealthWithoutAMonitorIsUnavailable(t *testing.T) {
	srv, c := newAPI(t)
	mustEnv(t, c, "notes", "production")
	if _, err := c.EnvHealth(context.Background(), "notes", "production"); jack.ErrorCode(err) != jack.EUNAVAILABLE {
		t.Errorf("health: %v; want EUNAVAILABLE", err)
	}
	if status, _ := do(t, "GET", srv.URL+"/metrics", "", ""); status != http.StatusUnauthorized {
		t.Errorf("/metrics without a token: %d", status)
	}
}
