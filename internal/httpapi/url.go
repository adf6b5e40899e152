package httpapi

import (
	"net"
	"strings"

	"github.com/jack-paas/jack"
)

// urlMaker builds environments' default URLs.
type urlMaker struct {
	suffix string // "localhost", "apps.example.com"
	port   string // "" for 80
}

// newURLMaker returns a urlMaker for the domain suffix and the router's
// listen address.
func newURLMaker(domain, httpAddr string) urlMaker {
	m := urlMaker{suffix: strings.Trim(strings.ToLower(domain), ".")}
	if m.suffix == "" {
		m.suffix = "localhost"
	}
	if _, port, err := net.SplitHostPort(httpAddr); err == nil && port != "80" && port != "" {
		m.port = port
	}
	return m
}

// URL returns http://ENV.APP.SUFFIX[:PORT] for a web environment and ""
// for a worker one.
func (m urlMaker) URL(env *jack.Environment) string {
	if env.Tier == jack.TierWorker {
		return ""
	}
	u := "http://" + env.Name + "." + env.App + "." + m.suffix
	if m.port != "" {
		u += ":" + m.port
	}
	return u
}

// view returns the environment as the API shows it.
func (m urlMaker) view(env *jack.Environment) *Env {
	return &Env{Environment: env, URL: m.URL(env)}
}
