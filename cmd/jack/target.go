package main

import (
	"errors"
	"io/fs"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/jack-paas/jack/internal/localconf"
)

// defaultAPI is where the API listens unless `jack server --api` says
// otherwise.
const defaultAPI = "http://127.0.0.1:7070"

// target is the API a command talks to and the token it sends.
type target struct {
	API   string
	Token string
}

// target finds the API and token, first found first served:
//
//	API:   $JACK_API, `jack login`'s, the local server's pointer, defaultAPI
//	token: $JACK_TOKEN, `jack login`'s, the token file named by the local
//	       server's pointer, c.adminTokenFile
//
// A stored token goes only to the server it belongs to: `jack login`'s to
// the API it was given with, the local server's to that server's API, and
// the admin token file's to an API on this machine. So pointing JACK_API at
// another server never sends it this machine's admin token.
func (c *cli) target() (target, error) {
	login, err := localconf.ReadLogin()
	if err != nil {
		return target{}, err
	}
	local, err := localconf.ReadLocalServer()
	if err != nil {
		return target{}, err
	}

	t := target{API: os.Getenv("JACK_API"), Token: os.Getenv("JACK_TOKEN")}
	switch {
	case t.API != "":
	case login != nil && login.API != "":
		t.API = login.API
	case local != nil && local.API != "":
		t.API = local.API
	default:
		t.API = defaultAPI
	}
	t.API = strings.TrimSuffix(t.API, "/")
	if t.Token != "" {
		return t, nil
	}
	if login != nil && login.Token != "" && sameServer(login.API, t.API) {
		t.Token = login.Token
		return t, nil
	}
	if local != nil && local.TokenFile != "" && sameServer(local.API, t.API) {
		if t.Token = c.readTokenFile(local.TokenFile); t.Token != "" {
			return t, nil
		}
	}
	if isLocal(t.API) {
		t.Token = c.readTokenFile(c.adminTokenFile)
	}
	return t, nil
}

// readTokenFile returns the token in a file, "" when it can't be read; a
// file that exists but is not readable leaves a hint for the error
// message.
func (c *cli) readTokenFile(path string) string {
	buf, err := os.ReadFile(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && c.tokenHint == "" {
			c.tokenHint = "the admin token in " + path + " is not readable by you (run as its owner, or set JACK_TOKEN)"
		}
		return ""
	}
	return strings.TrimSpace(string(buf))
}

// sameServer reports whether two API URLs name the same server: same
// scheme and port, and the same host or both loopback.
func sameServer(a, b string) bool {
	ua, errA := url.Parse(strings.TrimSuffix(a, "/"))
	ub, errB := url.Parse(strings.TrimSuffix(b, "/"))
	if errA != nil || errB != nil || ua.Scheme != ub.Scheme || port(ua) != port(ub) {
		return false
	}
	return strings.EqualFold(ua.Hostname(), ub.Hostname()) || (isLoopback(ua.Hostname()) && isLoopback(ub.Hostname()))
}

// isLocal reports whether an API URL names this machine.
func isLocal(api string) bool {
	u, err := url.Parse(api)
	return err == nil && isLoopback(u.Hostname())
}

// port returns a URL's port, or its scheme's default.
func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// isLoopback reports whether a host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
