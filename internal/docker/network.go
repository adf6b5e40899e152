package docker

import (
	"context"
	"sort"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	jack "github.com/jack-paas/jack"
)

// ensureNetwork returns the ID of the runtime's bridge network, creating
// the network the first time it is needed. It remembers the ID, so that
// starting an instance costs no extra call; forgetNetwork undoes that when
// the network was removed behind Jack's back.
func (r *Runtime) ensureNetwork(ctx context.Context) (string, error) {
	r.netMu.Lock()
	defer r.netMu.Unlock()
	if r.netID != "" {
		return r.netID, nil
	}
	unlock := lockNetworkCreation(r.network)
	id, err := r.findOrCreateNetwork(ctx)
	unlock()
	if err != nil {
		return "", err
	}
	r.netID = id
	return id, nil
}

// forgetNetwork makes the next ensureNetwork look for the network again.
func (r *Runtime) forgetNetwork() {
	r.netMu.Lock()
	r.netID = ""
	r.netMu.Unlock()
}

// findOrCreateNetwork returns the network's ID, creating it if it does not
// exist. The engine (20.10) does not stop two creators racing from making
// two networks of one name, so after creating, every creator lists the
// networks of that name and settles on the oldest; the others are removed.
// All instances are attached by ID, which a duplicate name can't confuse.
func (r *Runtime) findOrCreateNetwork(ctx context.Context) (string, error) {
	nets, err := r.networksNamed(ctx)
	if err != nil {
		return "", err
	}
	if len(nets) == 0 {
		labels := map[string]string{jack.LabelManaged: "true"}
		for k, v := range r.networkLabels {
			labels[k] = v
		}
		if _, err := r.cli.NetworkCreate(ctx, r.network, network.CreateOptions{Driver: "bridge", Labels: labels}); err != nil {
			// Refused because someone else made it first: use theirs.
			r.logger.Debug("could not create Docker network", "network", r.network, "err", err)
		}
		if nets, err = r.networksNamed(ctx); err != nil {
			return "", err
		}
		if len(nets) == 0 {
			return "", jack.Errorf(jack.EINTERNAL, "the Docker engine did not create network %s; see its log", r.network)
		}
	}
	sort.Slice(nets, func(i, j int) bool {
		if !nets[i].Created.Equal(nets[j].Created) {
			return nets[i].Created.Before(nets[j].Created)
		}
		return nets[i].ID < nets[j].ID
	})
	chosen := nets[0]
	if chosen.Labels[jack.LabelManaged] != "true" {
		return "", jack.Errorf(jack.ECONFLICT, "a Docker network named %s exists that Jack did not create; remove or rename it (docker network rm %s)", r.network, r.network)
	}
	for _, dup := range nets[1:] {
		if dup.Labels[jack.LabelManaged] == "true" {
			// Best effort: another creator may be removing it too, and one
			// with containers on it stays until they are gone.
			r.cli.NetworkRemove(ctx, dup.ID)
		}
	}
	r.logger.Info("using Docker network", "network", r.network, "id", chosen.ID[:12])
	return chosen.ID, nil
}

// networksNamed returns the networks whose name is exactly the runtime's.
func (r *Runtime) networksNamed(ctx context.Context) ([]network.Summary, error) {
	list, err := r.cli.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("name", r.network))})
	if err != nil {
		return nil, r.fail(err, "list networks named %s", r.network)
	}
	var named []network.Summary
	for _, n := range list {
		if n.Name == r.network { // the filter also matches longer names
			named = append(named, n)
		}
	}
	return named, nil
}
