-- The deaths of each environment's instance slots (web.1 ...), for restart
-- counts that survive a restart of jack server: a total, the times of the
-- latest deaths (JSON), and why the last one died.
CREATE TABLE slot_deaths (
	env_id    INTEGER NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
	name      TEXT NOT NULL,
	total     INTEGER NOT NULL,
	recent    TEXT NOT NULL DEFAULT '[]',
	last_exit TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (env_id, name)
);
