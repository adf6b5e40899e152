package client

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/httpapi"
)

// Config returns an environment's config keys with masked values.
func (c *Client) Config(ctx context.Context, app, env string) (map[string]string, error) {
	var out httpapi.ConfigList
	if err := c.do(ctx, http.MethodGet, envPath(app, env, "config"), nil, &out); err != nil {
		return nil, err
	}
	return out.Config, nil
}

// ConfigValue returns one config value, revealed, byte for byte.
// ENOTFOUND if the key is not set.
func (c *Client) ConfigValue(ctx context.Context, app, env, key string) (string, error) {
	var out httpapi.ConfigValue
	if err := c.do(ctx, http.MethodGet, envPath(app, env, "config", key), nil, &out); err != nil {
		return "", err
	}
	v, err := base64.StdEncoding.DecodeString(out.Base64)
	if err != nil {
		return "", fmt.Errorf("decode value of %s: %w", key, err)
	}
	return string(v), nil
}

// SetConfig sets and unsets config vars. Values that are not valid UTF-8
// travel base64-encoded, so any bytes but NUL arrive as they are. The
// deployment is nil when nothing runs yet and the change was only stored.
func (c *Client) SetConfig(ctx context.Context, app, env string, set map[string]string, unset []string) (*jack.Deployment, error) {
	patch := ConfigPatch{Unset: unset}
	for k, v := range set {
		if utf8.ValidString(v) {
			if patch.Set == nil {
				patch.Set = map[string]string{}
			}
			patch.Set[k] = v
		} else {
			if patch.SetBase64 == nil {
				patch.SetBase64 = map[string]string{}
			}
			patch.SetBase64[k] = base64.StdEncoding.EncodeToString([]byte(v))
		}
	}
	var out httpapi.ChangeResponse
	if err := c.do(ctx, http.MethodPatch, envPath(app, env, "config"), patch, &out); err != nil {
		return nil, err
	}
	return out.Deployment, nil
}
