// Package deploy is Jack's orchestrator: it moves environments from one
// release to the next (start -> healthy -> switch -> drain -> stop), undoes
// a deployment that fails, replaces instances that die, and, after a
// restart of the daemon, adopts the instances it finds by their labels and
// undoes the deployment it was interrupted in.
//
// It talks to the engine only through jack.Runtime, to the router only
// through jack.Router, and keeps what must survive it in jack.Store. What it
// keeps in memory (which instance is healthy, which is routed) is rebuilt
// from the runtime at start.
//
// Beside the Orchestrator, three smaller services share its store, runtime
// and event log: Edge changes domains, edge settings and certificates,
// OneOffs runs one-off commands, and Cron runs cron jobs.
package deploy
