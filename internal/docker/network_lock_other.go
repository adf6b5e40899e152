//go:build !unix

package docker

// lockNetworkCreation has no lock to take here: the oldest-wins rule of
// findOrCreateNetwork alone settles races.
func lockNetworkCreation(string) (unlock func()) { return func() {} }
