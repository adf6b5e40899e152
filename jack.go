// Package jack holds Jack's domain: apps, environments, versions, releases,
// deployments and instances, and the contracts between the parts that
// implement them (Store, Runtime, Router, Orchestrator). It imports no
// implementation; the packages under internal/ do, and meet only where the
// program is wired (internal/server).
package jack

// BuildVersion is the version of Jack, set at build time with
// -ldflags "-X github.com/jack-paas/jack.BuildVersion=...".
var BuildVersion = "dev"
