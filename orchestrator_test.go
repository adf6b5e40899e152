package jack

import (
	"strings"
	"testing"
	"time"
)

func TestDeployRequestValidateAcceptsOneThingToDeploy(t *testing.T) {
	for name, req := range map[string]DeployRequest{
		"an image":                        {Image: "notes:v1"},
		"an image with its manifest":      {Image: "notes:v1", Manifest: "web: gunicorn app\n", ManifestName: "Procfile", Label: "first"},
		"a manifest that names the image": {Manifest: `{"AWSEBDockerrunVersion": "1"}`, ManifestName: "Dockerrun.aws.json"},
		"an existing version":             {Version: "v1", Strategy: StrategyImmutable, Timeout: time.Minute},
		"a skipped release command":       {Version: "v1", SkipRelease: true},
		"a forced release command":        {Image: "notes:v1", ForceRelease: true},
	} {
		if err := req.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The same words reach a user of the CLI and a client of the API, which has
// no flags: a message that names one would be wrong for one of them.
func TestDeployRequestValidateRefusesWithoutNamingFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  DeployRequest
		want string
	}{
		{"nothing", DeployRequest{}, "nothing to deploy"},
		{"an image and a version", DeployRequest{Image: "notes:v1", Version: "v1"}, "not both"},
		{"a version with a manifest", DeployRequest{Version: "v1", ManifestName: "jack.yaml"}, "keeps the manifest"},
		{"a version with a label", DeployRequest{Version: "v1", Label: "again"}, "a label names a new version"},
		{"a negative timeout", DeployRequest{Image: "notes:v1", Timeout: -time.Second}, "timeout must be positive"},
		{"an unknown strategy", DeployRequest{Image: "notes:v1", Strategy: "yolo"}, `"yolo" is not known`},
		{"a skipped and forced release command", DeployRequest{Image: "notes:v1", SkipRelease: true, ForceRelease: true}, "both skipped and forced"},
	} {
		err := tc.req.Validate()
		if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), tc.want) {
			t.Errorf("%s: %v, want invalid saying %q", tc.name, err, tc.want)
		}
		if msg := ErrorMessage(err); strings.Contains(msg, "--") {
			t.Errorf("%s: %q names a flag", tc.name, msg)
		}
	}
}

func TestReleaseOptionsValidateRefusesBoth(t *testing.T) {
	for _, ok := range []ReleaseOptions{{}, {Skip: true}, {Force: true}} {
		if err := ok.Validate(); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
	if err := (ReleaseOptions{Skip: true, Force: true}).Validate(); ErrorCode(err) != EINVALID {
		t.Errorf("skip and force: %v, want invalid", err)
	}
}
