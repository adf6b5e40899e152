package registry

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/docker/docker/api/types/image"
	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/dockertest"
)

func TestMain(m *testing.M) { dockertest.Main(m) }

// pushed is a push the registry reported.
type pushed struct{ repo, ref, digest string }

// startRegistry runs the registry on loopback for the test: the token
// "good" may pull and push the repository "notes", the only app.
func startRegistry(t *testing.T) (host string, pushes func() []pushed) {
	t.Helper()
	var mu sync.Mutex
	var got []pushed
	reg, err := New(Config{
		Dir: t.TempDir(), Secret: "test",
		Authorize: func(ctx context.Context, token, repo string, push bool) error {
			if token != "good" {
				return jack.Errorf(jack.EUNAUTHORIZED, "that is not a Jack token")
			}
			if repo != "" && repo != "notes" {
				return jack.Errorf(jack.ENOTFOUND, "no app is named %s; create it with jack apps create %s", repo, repo)
			}
			return nil
		},
		OnPush: func(ctx context.Context, repo, ref, digest string) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, pushed{repo, ref, digest})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: reg}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), func() []pushed {
		mu.Lock()
		defer mu.Unlock()
		return append([]pushed(nil), got...)
	}
}

// dockerCLI runs Debian's docker command with a config folder of the
// test's, stdin as its input; it returns the output and whether it
// succeeded.
func dockerCLI(t *testing.T, config, stdin string, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command("docker", args...)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+config)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

func TestTheDockerCLILogsInWithAJackTokenAndPushesToAnAppsRepository(t *testing.T) {
	cli := dockertest.Client(t)
	dockertest.Cleanup(t, cli)
	dockertest.BuildGoImage(t, cli, dockertest.TestApp, "jack-test/testapp:registry")
	host, pushes := startRegistry(t)
	config := t.TempDir()

	if out, ok := dockerCLI(t, config, "not-a-token\n", "login", host, "-u", "ci", "--password-stdin"); ok || !strings.Contains(out, "401 Unauthorized") {
		t.Fatalf("login with a wrong token: %s", out)
	}
	if out, ok := dockerCLI(t, config, "good\n", "login", host, "-u", "ci", "--password-stdin"); !ok {
		t.Fatalf("login: %s", out)
	}
	ref := host + "/notes:v1"
	if out, ok := dockerCLI(t, config, "", "tag", "jack-test/testapp:registry", ref); !ok {
		t.Fatal(out)
	}
	t.Cleanup(func() { cli.ImageRemove(context.Background(), ref, image.RemoveOptions{}) })
	out, ok := dockerCLI(t, config, "", "push", ref)
	if !ok {
		t.Fatalf("push: %s", out)
	}
	got := pushes()
	if len(got) != 1 || got[0].repo != "notes" || got[0].ref != "v1" || !strings.HasPrefix(got[0].digest, "sha256:") || !strings.Contains(out, got[0].digest) {
		t.Fatalf("pushes reported %+v; the push said %s", got, out)
	}

	// A repository that is no app's is refused, with the reason.
	other := host + "/shop:v1"
	dockerCLI(t, config, "", "tag", "jack-test/testapp:registry", other)
	t.Cleanup(func() { cli.ImageRemove(context.Background(), other, image.RemoveOptions{}) })
	if out, ok := dockerCLI(t, config, "", "push", other); ok || !strings.Contains(out, "no app is named shop") {
		t.Fatalf("push to another repository: %s", out)
	}
	if len(pushes()) != 1 {
		t.Fatalf("a refused push was reported: %+v", pushes())
	}

	// The engine pulls what was pushed, by tag and by digest.
	cli.ImageRemove(context.Background(), ref, image.RemoveOptions{})
	if out, ok := dockerCLI(t, config, "", "pull", host+"/notes@"+got[0].digest); !ok {
		t.Fatalf("pull by digest: %s", out)
	}
	cli.ImageRemove(context.Background(), host+"/notes@"+got[0].digest, image.RemoveOptions{})
}

func TestRequestsWithoutATokenAreChallenged(t *testing.T) {
	host, _ := startRegistry(t)
	for _, path := range []string{"/v2/", "/v2/notes/tags/list", "/v2/_catalog"} {
		resp, err := http.Get("http://" + host + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("GET %s without a token: %d %q; want 401 with a Basic challenge", path, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+host+"/v2/", nil)
	req.SetBasicAuth("anyone", "good")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Docker-Distribution-API-Version") != "registry/2.0" {
		t.Fatalf("GET /v2/ with a token: %d %v", resp.StatusCode, resp.Header)
	}
}
