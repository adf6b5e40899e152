package manifest

import (
	"reflect"
	"strings"
	"testing"

	"github.com/jack-paas/jack"
)

func TestParseDockerrun(t *testing.T) {
	m, err := ParseFile("Dockerrun.aws.json", []byte(`{
  "AWSEBDockerrunVersion": "1",
  "Image": {"Name": "janedoe/notes:v2", "Update": "true"},
  "Ports": [{"ContainerPort": 8000, "HostPort": 80}, {"ContainerPort": 9000}],
  "Volumes": [{"HostDirectory": "/var/app/mydb", "ContainerDirectory": "/etc/mysql"}],
  "Logging": "/var/log/nginx",
  "Entrypoint": "/app/bin/notes",
  "Command": "--workers 2 'a b'"
}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &jack.Manifest{
		Image: "janedoe/notes:v2",
		Processes: map[string]*jack.Process{"web": {
			Entrypoint: []string{"/app/bin/notes"}, Command: []string{"--workers", "2", "a b"}, Port: 8000,
		}},
		Volumes: map[string]string{"mydb": "/etc/mysql", "logs": "/var/log/nginx"},
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got %+v %+v\nwant %+v", m, m.Processes["web"], want)
	}
	if m, err := ParseDockerrun("Dockerrun.aws.json", []byte(`{"AWSEBDockerrunVersion": 1, "Image": {"Name": "x"}}`)); err != nil || m.Processes != nil || m.Image != "x" {
		t.Fatalf("minimal file: %+v, %v", m, err)
	}
	for _, tc := range []struct{ json, want string }{
		{`{"AWSEBDockerrunVersion": 2, "containerDefinitions": []}`,
			"Dockerrun.aws.json:1: AWSEBDockerrunVersion 2 describes a multi-container (ECS) environment, which Jack does not support"},
		{`{"Image": {"Name": "x"}}`, "Dockerrun.aws.json: AWSEBDockerrunVersion is missing"},
		{"{\n  \"AWSEBDockerrunVersion\": \"1\",\n  \"Ports\": [{\"ContainerPort\": \"http\"}]\n}", `Dockerrun.aws.json:3: Ports[0].ContainerPort: expected a number, got "http"`},
		{"{\n  \"AWSEBDockerrunVersion\": \"1\",\n  \"Volumes\": [{\"HostDirectory\": \"/a\", \"ContainerDirectory\": \"data\"}]\n}", `Dockerrun.aws.json:3: Volumes[0]: volumes.a: path "data" is not absolute`},
		{"{\n  \"AWSEBDockerrunVersion\": \"1\",\n  \"Imag\": {}\n}", `Dockerrun.aws.json:3: unknown key "Imag" in the manifest`},
		{"{\n  \"AWSEBDockerrunVersion\": \"1\",\n  \"Ports\": [\n}", "Dockerrun.aws.json:4: not valid JSON"},
	} {
		if _, err := ParseFile("Dockerrun.aws.json", []byte(tc.json)); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant %s", tc.json, err, tc.want)
		}
	}
}
