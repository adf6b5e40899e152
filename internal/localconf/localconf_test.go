package localconf

import (
	"os"
	"testing"
)

func TestFilesRoundTripReadableByTheUserOnly(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	if s, err := ReadLocalServer(); s != nil || err != nil {
		t.Fatalf("ReadLocalServer before any write = %v, %v; want nil, nil", s, err)
	}
	if l, err := ReadLogin(); l != nil || err != nil {
		t.Fatalf("ReadLogin before any write = %v, %v; want nil, nil", l, err)
	}
	if err := WriteLocalServer("http://127.0.0.1:7070", "/tmp/jack/admin-token"); err != nil {
		t.Fatal(err)
	}
	s, err := ReadLocalServer()
	if err != nil || *s != (LocalServer{API: "http://127.0.0.1:7070", TokenFile: "/tmp/jack/admin-token"}) {
		t.Fatalf("ReadLocalServer = %+v, %v", s, err)
	}
	if err := WriteLogin(Login{API: "https://jack.example.com", Token: "secret"}); err != nil {
		t.Fatal(err)
	}
	l, err := ReadLogin()
	if err != nil || *l != (Login{API: "https://jack.example.com", Token: "secret"}) {
		t.Fatalf("ReadLogin = %+v, %v", l, err)
	}
	for _, path := range []func() (string, error){LoginPath, LocalServerPath} {
		p, _ := path()
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, %v; want mode 0600", p, fi, err)
		}
	}
	if err := RemoveLocalServer(); err != nil {
		t.Fatal(err)
	}
	if s, err := ReadLocalServer(); s != nil || err != nil {
		t.Fatalf("after remove: %v, %v", s, err)
	}
	if err := RemoveLocalServer(); err != nil {
		t.Fatalf("removing twice: %v", err)
	}
}

func TestACorruptFileIsAnErrorThatSaysWhatToDo(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	p, _ := LoginPath()
	dir, _ := Dir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadLogin(); err == nil {
		t.Fatal("a corrupt login file read without error")
	}
}
