package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/dockertest"
)

func TestConcurrentRuntimesCreateTheNetworkOnce(t *testing.T) {
	_, cli := newRuntime(t)
	suffix := make([]byte, 4)
	rand.Read(suffix)
	name := "jack-test-" + hex.EncodeToString(suffix)

	var wg sync.WaitGroup
	errs := make([]error, 6)
	ids := make([]string, 6)
	for i := range errs {
		r, _ := newRuntime(t)
		r.network, r.networkLabels = name, dockertest.Labels(t)
		wg.Go(func() { ids[i], errs[i] = r.ensureNetwork(context.Background()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil || ids[i] != ids[0] {
			t.Errorf("runtime %d: network %.12s, %v; want all on %.12s", i, ids[i], err, ids[0])
		}
	}
	nets, err := cli.NetworkList(context.Background(), network.ListOptions{Filters: filters.NewArgs(filters.Arg("name", name))})
	if err != nil {
		t.Fatal(err)
	}
	var found []network.Summary
	for _, n := range nets {
		if n.Name == name {
			found = append(found, n)
		}
	}
	if len(found) != 1 || found[0].ID != ids[0] || found[0].Labels[jack.LabelManaged] != "true" || found[0].Labels[dockertest.LabelTest] != "true" || found[0].Driver != "bridge" {
		t.Errorf("networks named %s: %+v; want one managed bridge", name, found)
	}
}

func TestStartRecreatesTheNetworkRemovedBehindItsBack(t *testing.T) {
	r, cli := newRuntime(t)
	image := testImage(t, cli)
	suffix := make([]byte, 4)
	rand.Read(suffix)
	r.network, r.networkLabels = "jack-test-"+hex.EncodeToString(suffix), dockertest.Labels(t)

	first := start(t, r, webSpec(image, 1))
	if err := r.Stop(context.Background(), first.ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := cli.NetworkRemove(context.Background(), r.network); err != nil {
		t.Fatal(err)
	}
	c := start(t, r, webSpec(image, 2))
	if status, _ := get(t, "http://"+c.Address+"/health"); status != 200 {
		t.Errorf("instance on the recreated network answers %d", status)
	}
}

func TestANetworkJackDidNotCreateIsNotUsed(t *testing.T) {
	r, cli := newRuntime(t)
	suffix := make([]byte, 4)
	rand.Read(suffix)
	r.network = "jack-test-" + hex.EncodeToString(suffix)
	if _, err := cli.NetworkCreate(context.Background(), r.network, network.CreateOptions{Labels: dockertest.Labels(t)}); err != nil {
		t.Fatal(err)
	}
	_, err := r.Start(context.Background(), webSpec("jack-test/no-such-image:v0", 1))
	if jack.ErrorCode(err) != jack.ECONFLICT {
		t.Errorf("Start on a foreign network = %v (%s); want ECONFLICT", err, jack.ErrorCode(err))
	}
}
