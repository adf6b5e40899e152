package deploy

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	jack "github.com/jack-paas/jack"
)

// fakeImage is an image of the fake runtime and how its instances behave.
type fakeImage struct {
	info        jack.ImageInfo
	exitAtStart int               // non-zero: the instance writes "boom" and exits with this code
	failHealth  bool              // the health path answers 500
	startDelay  time.Duration     // time before the instance answers
	sick        *atomic.Bool      // when set and true, the health path answers 500
	files       map[string]string // file contents by absolute path, for CopyFromImage
}

// fakeRuntime is a jack.Runtime whose instances are httptest servers: the
// orchestrator and the router talk to them over real sockets, in
// milliseconds.
type fakeRuntime struct {
	mu         sync.Mutex
	images     map[string]*fakeImage // by reference and by ID
	containers map[string]*fakeContainer
	events     chan jack.ContainerEvent
	seq        int
	starts     int
	oneOffs    []oneOffRun
	behaviour  map[string]fakeOneOff
	remote     fakeRegistry // what PullImage brings (fakepull_test.go)
}

type fakeContainer struct {
	c      *jack.Container
	image  string // the spec's image ID
	srv    *httptest.Server
	logs   []string
	killed bool
}

func newFakeRuntime() *fakeRuntime {
	return &fakeRuntime{
		images:     map[string]*fakeImage{},
		containers: map[string]*fakeContainer{},
		events:     make(chan jack.ContainerEvent, 1024),
	}
}

// addImage registers an image under ref.
func (f *fakeRuntime) addImage(ref string, img fakeImage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	img.info.ID = fmt.Sprintf("sha256:%064d", f.seq)
	f.images[ref] = &img
	f.images[img.info.ID] = &img
}

func (f *fakeRuntime) InspectImage(ctx context.Context, ref string) (jack.ImageInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	img := f.images[ref]
	if img == nil {
		return jack.ImageInfo{}, jack.Errorf(jack.ENOTFOUND, "image %s is not on the Docker engine; build or load it first", ref)
	}
	return img.info, nil
}

func (f *fakeRuntime) Start(ctx context.Context, spec *jack.InstanceSpec) (*jack.Container, error) {
	f.mu.Lock()
	img := f.images[spec.Image]
	f.seq++
	f.starts++
	id := fmt.Sprintf("c%04d", f.seq)
	f.mu.Unlock()
	if img == nil {
		return nil, jack.Errorf(jack.ENOTFOUND, "image %s is not on the Docker engine", spec.Image)
	}
	env := map[string]string{}
	for _, kv := range spec.Environ {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	ready := time.Now().Add(img.startDelay)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if img.exitAtStart != 0 {
			// It crashes on boot: it never answers, even in the moment
			// before its exit is seen.
			panic(http.ErrAbortHandler)
		}
		if time.Now().Before(ready) {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		if r.URL.Path == "/health" && (img.failHealth || img.sick != nil && img.sick.Load()) {
			http.Error(w, "unhealthy", http.StatusInternalServerError)
			return
		}
		if d, err := time.ParseDuration(r.URL.Query().Get("sleep")); err == nil {
			time.Sleep(d)
		}
		fmt.Fprintf(w, "version=%s release=%s instance=%s secret=%s", env["JACK_VERSION"], env["JACK_RELEASE"], id, env["SECRET"])
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			c.Write(r.Context(), typ, []byte(fmt.Sprintf("version=%s instance=%s: %s", env["JACK_VERSION"], id, msg)))
		}
	})
	srv := httptest.NewServer(mux)
	c := &jack.Container{
		ID: id, Owner: spec.Owner, App: spec.App, Env: spec.Env, Process: spec.Process, Slot: spec.Slot,
		Release: spec.Release, Version: spec.Version, Deployment: spec.Deployment, Spec: spec.Spec,
		StopTimeout: spec.StopTimeout, Address: strings.TrimPrefix(srv.URL, "http://"),
		Running: true, StartedAt: time.Now(),
	}
	fc := &fakeContainer{c: c, image: spec.Image, srv: srv, logs: []string{"listening on " + c.Address}}
	if img.exitAtStart != 0 {
		fc.logs = append(fc.logs, "boom: failing on purpose")
	}
	started := *c // the caller's copy: exit changes the fake's own
	f.mu.Lock()
	f.containers[id] = fc
	f.mu.Unlock()
	f.events <- jack.ContainerEvent{ID: id, App: spec.App, Env: spec.Env, Action: "start"}
	if img.exitAtStart != 0 {
		go f.exit(id, img.exitAtStart)
	}
	return &started, nil
}

// exit ends an instance as if its process exited with code.
func (f *fakeRuntime) exit(id string, code int) {
	f.mu.Lock()
	fc := f.containers[id]
	if fc == nil || !fc.c.Running {
		f.mu.Unlock()
		return
	}
	fc.c.Running, fc.c.ExitCode = false, code
	f.mu.Unlock()
	fc.srv.CloseClientConnections()
	fc.srv.Close()
	f.events <- jack.ContainerEvent{ID: id, App: fc.c.App, Env: fc.c.Env, Action: "die", ExitCode: code}
}

func (f *fakeRuntime) Stop(ctx context.Context, id string, timeout time.Duration) error {
	f.exit(id, 0)
	f.mu.Lock()
	delete(f.containers, id)
	f.mu.Unlock()
	return nil
}

func (f *fakeRuntime) List(ctx context.Context, app, env string) ([]*jack.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*jack.Container
	for _, fc := range f.containers {
		if (app == "" || fc.c.App == app) && (env == "" || fc.c.Env == env) {
			cp := *fc.c
			out = append(out, &cp)
		}
	}
	return out, nil
}

func (f *fakeRuntime) Inspect(ctx context.Context, id string) (*jack.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fc := f.containers[id]
	if fc == nil {
		return nil, jack.Errorf(jack.ENOTFOUND, "no instance %s", id)
	}
	cp := *fc.c
	return &cp, nil
}

func (f *fakeRuntime) Logs(ctx context.Context, id string, n int) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fc := f.containers[id]; fc != nil {
		return fc.logs, nil
	}
	return nil, nil
}

func (f *fakeRuntime) Watch(ctx context.Context) <-chan jack.ContainerEvent {
	out := make(chan jack.ContainerEvent)
	go func() {
		defer close(out)
		for {
			select {
			case ev := <-f.events:
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// running returns the running instances of a process.
// runningImages returns the image IDs the running instances of a process
// were started from.
func (f *fakeRuntime) runningImages(process string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, fc := range f.containers {
		if fc.c.Running && fc.c.Process == process {
			out = append(out, fc.image)
		}
	}
	return out
}

func (f *fakeRuntime) running(process string) []*jack.Container {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*jack.Container
	for _, fc := range f.containers {
		if fc.c.Running && fc.c.Process == process {
			out = append(out, fc.c)
		}
	}
	return out
}

// CopyFromImage writes the image's files under path into dest, as the
// Docker runtime copies them out of an image.
func (f *fakeRuntime) CopyFromImage(ctx context.Context, image, path, dest string) error {
	f.mu.Lock()
	img := f.images[image]
	f.mu.Unlock()
	if img == nil {
		return jack.Errorf(jack.ENOTFOUND, "image %s is not on the Docker engine", image)
	}
	prefix := strings.TrimSuffix(path, "/") + "/"
	found := false
	for name, body := range img.files {
		rel, ok := strings.CutPrefix(name, prefix)
		if !ok {
			continue
		}
		found = true
		target := filepath.Join(dest, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(target, []byte(body), 0o644); err != nil {
			return err
		}
	}
	if !found {
		return jack.Errorf(jack.ENOTFOUND, "the image has no %s to copy static files from", path)
	}
	return nil
}
