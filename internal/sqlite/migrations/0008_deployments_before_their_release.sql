-- A deployment may begin before its release exists: while the image it
-- deploys is pulled (its steps show the pull), the release is made once the
-- image is there. release_id is NULL until then. SQLite changes a column's
-- constraint only by rebuilding the table.
CREATE TABLE deployments_new (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	env_id       INTEGER NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
	release_id   INTEGER REFERENCES releases (id) ON DELETE CASCADE,
	from_release INTEGER NOT NULL DEFAULT 0,
	kind         TEXT NOT NULL DEFAULT '',
	state        TEXT NOT NULL,
	steps        TEXT NOT NULL DEFAULT '[]', -- JSON of []jack.Step
	reason       TEXT NOT NULL DEFAULT '',
	output       TEXT NOT NULL DEFAULT '[]', -- JSON of []string
	created_at   TEXT NOT NULL,
	finished_at  TEXT
);
INSERT INTO deployments_new (id, env_id, release_id, from_release, kind, state, steps, reason, output, created_at, finished_at)
	SELECT id, env_id, release_id, from_release, kind, state, steps, reason, output, created_at, finished_at FROM deployments;
DROP TABLE deployments;
ALTER TABLE deployments_new RENAME TO deployments;
CREATE INDEX deployments_env_id ON deployments (env_id, id);
CREATE INDEX deployments_release_id ON deployments (release_id, id);
CREATE UNIQUE INDEX deployments_one_active ON deployments (env_id)
	WHERE state IN ('pending', 'running');
