-- Logs (issue 5): each environment's retention and drains. The records
-- themselves live in files under DATA/logs.

-- Zero means the default (7 days, 1 GiB).
CREATE TABLE log_settings (
	env_id    INTEGER PRIMARY KEY REFERENCES environments (id) ON DELETE CASCADE,
	retention INTEGER NOT NULL DEFAULT 0, -- nanoseconds
	max_bytes INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE log_drains (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	env_id     INTEGER NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
	url        TEXT NOT NULL,
	created_at TEXT NOT NULL,
	UNIQUE (env_id, url)
);
