package jack

// RegistryAuth is what Jack gives a registry to pull from it (and what it
// gives Swarm nodes to pull with): the credentials a user stored for the
// registry's host with `jack registries add`. Its password never leaves
// the server in an answer, an event or a log.
type RegistryAuth struct {
	Host     string `json:"host"` // the registry's host[:port], as in image references
	Username string `json:"username"`
	Password string `json:"-"`
}

// PullProgress is how far a pull has come: layers and bytes, as the engine
// reports them while it downloads.
type PullProgress struct {
	Layers     int   // layers of the image
	Done       int   // layers downloaded and extracted (or already there)
	Downloaded int64 // bytes downloaded so far
	Total      int64 // bytes to download, of the layers whose size is known
}
