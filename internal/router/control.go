package router

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/jack-paas/jack"
)

// Status is what a running router says about itself on GET /status.
type Status struct {
	PID           int       `json:"pid"`
	Version       string    `json:"version"`              // jack.BuildVersion of the router's binary
	HTTPAddr      string    `json:"http_addr"`            // as configured (--http)
	HTTPSAddr     string    `json:"https_addr,omitempty"` // as configured (--https)
	ListenAddr    string    `json:"listen_addr"`          // the address actually bound
	ListenTLSAddr string    `json:"listen_tls_addr,omitempty"`
	Generation    int64     `json:"generation"` // of the table being served
	StartedAt     time.Time `json:"started_at"`
	// Handoff says the router hands its sockets to a new router (POST
	// /handoff); routers of earlier versions must be stopped instead.
	Handoff bool `json:"handoff,omitempty"`
	// Settings sums up the addresses and ACME settings it serves with; a
	// router with other settings is replaced.
	Settings string `json:"settings,omitempty"`
}

// drainRequest is the body of POST /drain.
type drainRequest struct {
	IDs     []string `json:"ids"`
	Timeout string   `json:"timeout"` // a Go duration, e.g. "30s"
}

// errorBody is how the control API responds with an error.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// maxTableBytes bounds a PUT /routes body.
const maxTableBytes = 32 << 20

// controlAPI serves the router's control API on its unix socket.
type controlAPI struct {
	proxy      *Proxy
	routesPath string
	status     Status // the fixed parts
	shutdown   func() // asks Run to stop
	logger     *slog.Logger
	listeners  *listenerSet
}

func (c *controlAPI) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /routes", c.putRoutes)
	mux.HandleFunc("GET /routes", c.getRoutes)
	mux.HandleFunc("POST /drain", c.drain)
	mux.HandleFunc("GET /status", c.getStatus)
	mux.HandleFunc("POST /shutdown", c.postShutdown)
	mux.HandleFunc("POST /handoff", c.postHandoff)
	mux.HandleFunc("GET /metrics", c.getMetrics)
	// Profiles of the running router, for finding where a request's time
	// goes (bench/README.md); the socket is the owner's only.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

// putRoutes accepts a table no older than the current one, saves it, then
// serves it.
func (c *controlAPI) putRoutes(w http.ResponseWriter, r *http.Request) {
	var rt jack.RouteTable
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxTableBytes)).Decode(&rt); err != nil {
		writeError(w, jack.Errorf(jack.EINVALID, "decode route table: %v", err))
		return
	}
	err := c.proxy.apply(rt, func(rt jack.RouteTable) error { return saveTable(c.routesPath, rt) })
	if err != nil {
		writeError(w, err)
		return
	}
	c.logger.Info("route table set", "generation", rt.Generation, "routes", len(rt.Routes))
	w.WriteHeader(http.StatusNoContent)
}

func (c *controlAPI) getRoutes(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, c.proxy.Routes())
}

func (c *controlAPI) drain(w http.ResponseWriter, r *http.Request) {
	var req drainRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		writeError(w, jack.Errorf(jack.EINVALID, "decode drain request: %v", err))
		return
	}
	timeout, err := time.ParseDuration(req.Timeout)
	if err != nil {
		writeError(w, jack.Errorf(jack.EINVALID, "drain timeout %q is not a duration like 30s", req.Timeout))
		return
	}
	result, err := c.proxy.Drain(r.Context(), req.IDs, timeout)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, result)
}

func (c *controlAPI) getStatus(w http.ResponseWriter, r *http.Request) {
	st := c.status
	st.Generation = c.proxy.Generation()
	writeJSON(w, http.StatusOK, st)
}

func (c *controlAPI) getMetrics(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, c.proxy.Metrics())
}

func (c *controlAPI) postShutdown(w http.ResponseWriter, r *http.Request) {
	c.logger.Info("shutdown requested over the control socket")
	w.WriteHeader(http.StatusAccepted)
	c.shutdown()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// errorStatus maps error codes to HTTP statuses; the client maps them back.
var errorStatus = map[string]int{
	jack.ECONFLICT:    http.StatusConflict,
	jack.EINVALID:     http.StatusBadRequest,
	jack.ENOTFOUND:    http.StatusNotFound,
	jack.EUNAVAILABLE: http.StatusServiceUnavailable,
	jack.EFAILED:      http.StatusUnprocessableEntity,
	jack.EINTERNAL:    http.StatusInternalServerError,
}

func writeError(w http.ResponseWriter, err error) {
	code := jack.ErrorCode(err)
	status, ok := errorStatus[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	msg := jack.ErrorMessage(err)
	if code == jack.EINTERNAL {
		// The daemon's log is where a user looks; say what broke.
		msg = err.Error()
	}
	writeJSON(w, status, errorBody{Code: code, Message: msg})
}
