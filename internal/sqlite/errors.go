package sqlite

import "github.com/jack-paas/jack"

// The messages a user sees when something named is missing, each saying
// where to look next.

func errAppNotFound(name string) error {
	return jack.Errorf(jack.ENOTFOUND, "app %s does not exist; create it with `jack apps create %s`", name, name)
}

func errAppIDNotFound(id int64) error {
	return jack.Errorf(jack.ENOTFOUND, "app %d does not exist; see `jack apps`", id)
}

func errEnvNotFound(app, name string) error {
	return jack.Errorf(jack.ENOTFOUND, "environment %s/%s does not exist; see `jack envs %s`", app, name, app)
}

func errEnvIDNotFound(id int64) error {
	return jack.Errorf(jack.ENOTFOUND, "environment %d does not exist; see `jack envs`", id)
}
