-- Jack's first schema. Times are UTC text in a fixed-width RFC 3339 form, so
-- they sort as they compare. IDs never get reused (AUTOINCREMENT), since
-- users see them ("deployment 12") and clients page events by them.

CREATE TABLE apps (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	name       TEXT NOT NULL UNIQUE,
	created_at TEXT NOT NULL
);

-- An app can't be deleted while it has environments (no cascade here).
CREATE TABLE environments (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	app_id     INTEGER NOT NULL REFERENCES apps (id),
	name       TEXT NOT NULL,
	tier       TEXT NOT NULL,
	strategy   TEXT NOT NULL DEFAULT '',
	config     TEXT NOT NULL DEFAULT '{}', -- JSON object of base64 values, so any bytes round-trip
	scale      TEXT NOT NULL DEFAULT '{}', -- JSON object of counts
	release    INTEGER NOT NULL DEFAULT 0,
	created_at TEXT NOT NULL,
	UNIQUE (app_id, name)
);

-- Domains are unique across every environment; the primary key says so.
CREATE TABLE domains (
	domain   TEXT PRIMARY KEY, -- normalized: lower case, no trailing dot
	env_id   INTEGER NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
	position INTEGER NOT NULL
);
CREATE INDEX domains_env_id ON domains (env_id);

CREATE TABLE versions (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	app_id        INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	number        INTEGER NOT NULL,
	label         TEXT NOT NULL,
	image         TEXT NOT NULL,
	image_id      TEXT NOT NULL,
	digest        TEXT NOT NULL DEFAULT '',
	manifest      TEXT NOT NULL, -- JSON of jack.Manifest
	source        TEXT NOT NULL DEFAULT '',
	manifest_text TEXT NOT NULL DEFAULT '',
	created_at    TEXT NOT NULL,
	UNIQUE (app_id, number),
	UNIQUE (app_id, label)
);

CREATE TABLE releases (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	env_id      INTEGER NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
	number      INTEGER NOT NULL,
	version_id  INTEGER NOT NULL REFERENCES versions (id),
	config      TEXT NOT NULL DEFAULT '{}',
	scale       TEXT NOT NULL DEFAULT '{}',
	strategy    TEXT NOT NULL DEFAULT '',
	description TEXT NOT NULL DEFAULT '',
	created_at  TEXT NOT NULL,
	UNIQUE (env_id, number)
);
CREATE INDEX releases_version_id ON releases (version_id);

CREATE TABLE deployments (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	env_id       INTEGER NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
	release_id   INTEGER NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
	from_release INTEGER NOT NULL DEFAULT 0,
	kind         TEXT NOT NULL DEFAULT '',
	state        TEXT NOT NULL,
	steps        TEXT NOT NULL DEFAULT '[]', -- JSON of []jack.Step
	reason       TEXT NOT NULL DEFAULT '',
	output       TEXT NOT NULL DEFAULT '[]', -- JSON of []string
	created_at   TEXT NOT NULL,
	finished_at  TEXT
);
CREATE INDEX deployments_env_id ON deployments (env_id, id);
CREATE INDEX deployments_release_id ON deployments (release_id, id);
-- At most one deployment of an environment that has not ended.
CREATE UNIQUE INDEX deployments_one_active ON deployments (env_id)
	WHERE state IN ('pending', 'running');

CREATE TABLE events (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	env_id  INTEGER NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
	time    TEXT NOT NULL,
	kind    TEXT NOT NULL DEFAULT '',
	message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_env_id ON events (env_id, id);

CREATE TABLE tokens (
	hash       TEXT PRIMARY KEY, -- SHA-256 of the token, hex
	name       TEXT NOT NULL,
	created_at TEXT NOT NULL
);
