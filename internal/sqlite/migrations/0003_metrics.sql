-- Metrics rollups (one row per environment, process and minute; process ''
-- is the whole environment; kept 24 hours), webhooks and their deliveries.

CREATE TABLE metric_rollups (
	env_id      INTEGER NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
	process     TEXT NOT NULL DEFAULT '',
	minute      INTEGER NOT NULL, -- Unix seconds of the minute's start
	instances   INTEGER NOT NULL DEFAULT 0,
	cpu_percent REAL NOT NULL DEFAULT 0,
	cpu_max     REAL NOT NULL DEFAULT 0,
	memory_avg  INTEGER NOT NULL DEFAULT 0,
	memory_max  INTEGER NOT NULL DEFAULT 0,
	net_rx      INTEGER NOT NULL DEFAULT 0,
	net_tx      INTEGER NOT NULL DEFAULT 0,
	block_read  INTEGER NOT NULL DEFAULT 0,
	block_write INTEGER NOT NULL DEFAULT 0,
	restarts    INTEGER NOT NULL DEFAULT 0,
	requests    INTEGER NOT NULL DEFAULT 0,
	errors      INTEGER NOT NULL DEFAULT 0,
	p95         REAL NOT NULL DEFAULT 0,
	PRIMARY KEY (env_id, process, minute)
) WITHOUT ROWID;
CREATE INDEX metric_rollups_minute ON metric_rollups (minute);

CREATE TABLE hooks (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	env_id     INTEGER NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
	url        TEXT NOT NULL,
	secret     TEXT NOT NULL,
	created_at TEXT NOT NULL,
	UNIQUE (env_id, url)
);

CREATE TABLE hook_deliveries (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	hook_id      INTEGER NOT NULL REFERENCES hooks (id) ON DELETE CASCADE,
	env_id       INTEGER NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
	event        TEXT NOT NULL,
	payload      TEXT NOT NULL,
	state        TEXT NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	status_code  INTEGER NOT NULL DEFAULT 0,
	error        TEXT NOT NULL DEFAULT '',
	created_at   TEXT NOT NULL,
	next_attempt TEXT NOT NULL,
	done_at      TEXT
);
CREATE INDEX hook_deliveries_env ON hook_deliveries (env_id, id);
CREATE INDEX hook_deliveries_due ON hook_deliveries (next_attempt) WHERE state = 'pending';
