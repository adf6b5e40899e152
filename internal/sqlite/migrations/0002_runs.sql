-- One-off runs: `jack run` and the runs of cron jobs, with their exit codes
-- and last lines of output. A cron run is stored before its container
-- starts, and a tick has at most one run (the unique index), so a job runs
-- once per tick even when the daemon restarts.
CREATE TABLE runs (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	env_id      INTEGER NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
	kind        TEXT NOT NULL,            -- run, cron
	job         TEXT NOT NULL DEFAULT '', -- the cron job's name
	command     TEXT NOT NULL DEFAULT '[]',
	process     TEXT NOT NULL DEFAULT '',
	release     INTEGER NOT NULL DEFAULT 0,
	tty         INTEGER NOT NULL DEFAULT 0,
	state       TEXT NOT NULL,
	exit_code   INTEGER NOT NULL DEFAULT 0,
	reason      TEXT NOT NULL DEFAULT '',
	output      TEXT NOT NULL DEFAULT '[]',
	tick        TEXT,                     -- cron runs: the schedule's tick
	created_at  TEXT NOT NULL,
	finished_at TEXT
);
CREATE INDEX runs_env_id ON runs (env_id, id);
CREATE UNIQUE INDEX runs_one_per_tick ON runs (env_id, job, tick) WHERE tick IS NOT NULL;
