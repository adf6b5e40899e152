// Package web is Jack's dashboard: server-rendered pages on the API's
// listener that show every environment at a glance (release, version,
// instances, the last deployment) and one environment in full (instances,
// releases, deployments with their steps, events). It reads the same store
// and orchestrator as the API and changes nothing: actions stay in the CLI.
package web

import (
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	jack "github.com/jack-paas/jack"
)

//go:embed templates/*.html templates/*.css
var files embed.FS

// Config is what the dashboard reads from.
type Config struct {
	Store        jack.Store
	Orchestrator jack.Orchestrator
	// Domain and HTTPAddr make environments' URLs, as the API does.
	Domain   string
	HTTPAddr string
	Logger   *slog.Logger
}

// handler serves the dashboard.
type handler struct {
	cfg   Config
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// New returns the dashboard's handler, to mount at "/".
func New(cfg Config) http.Handler {
	if cfg.Domain == "" {
		cfg.Domain = "localhost"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &handler{cfg: cfg, pages: map[string]*template.Template{}, mux: http.NewServeMux()}
	for _, page := range []string{"overview", "env", "login"} {
		h.pages[page] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/"+page+".html"))
	}
	h.mux.HandleFunc("GET /{$}", h.authenticated(h.overview))
	h.mux.HandleFunc("GET /apps/{app}/envs/{env}", h.authenticated(h.env))
	h.mux.HandleFunc("GET /login", h.loginPage)
	h.mux.HandleFunc("POST /login", h.login)
	h.mux.HandleFunc("POST /logout", h.logout)
	h.mux.HandleFunc("GET /style.css", h.style)
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'")
	h.mux.ServeHTTP(w, r)
}

func (h *handler) style(w http.ResponseWriter, r *http.Request) {
	b, _ := files.ReadFile("templates/style.css")
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "max-age=300")
	w.Write(b)
}

// render writes a page, or a plain error page if the template fails.
func (h *handler) render(w http.ResponseWriter, page string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := h.pages[page].Execute(w, data); err != nil {
		h.cfg.Logger.Error("render dashboard page", "page", page, "err", err)
	}
}

// fail shows an error as a page: the user's message for *jack.Error, a
// generic one for anything else.
func (h *handler) fail(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch jack.ErrorCode(err) {
	case jack.ENOTFOUND:
		status = http.StatusNotFound
	case jack.EINVALID:
		status = http.StatusBadRequest
	}
	if status == http.StatusInternalServerError {
		h.cfg.Logger.Error("dashboard", "err", err)
	}
	w.WriteHeader(status)
	h.render(w, "overview", overviewPage{Error: jack.ErrorMessage(err)})
}

// url returns an environment's default URL, as the API and CLI show it.
func (h *handler) url(env *jack.Environment) string {
	if env.Tier != jack.TierWeb {
		return ""
	}
	port := ""
	if i := strings.LastIndex(h.cfg.HTTPAddr, ":"); i >= 0 {
		if p := h.cfg.HTTPAddr[i+1:]; p != "" && p != "80" {
			port = ":" + p
		}
	}
	return "http://" + env.Name + "." + env.App + "." + h.cfg.Domain + port
}

var funcs = template.FuncMap{
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		d := time.Since(t)
		switch {
		case d < time.Minute:
			return strconv.Itoa(int(d.Seconds())) + "s ago"
		case d < time.Hour:
			return strconv.Itoa(int(d.Minutes())) + "m ago"
		case d < 48*time.Hour:
			return strconv.Itoa(int(d.Hours())) + "h ago"
		}
		return strconv.Itoa(int(d.Hours()/24)) + "d ago"
	},
	"clock": func(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") },
	"since": func(from, t time.Time) string {
		return "+" + strconv.FormatFloat(t.Sub(from).Seconds(), 'f', 2, 64) + "s"
	},
	"short": jack.ShortID,
}
