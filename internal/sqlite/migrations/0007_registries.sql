-- Credentials of the registries Jack pulls from; the password is sealed
-- with the server's secret key (internal/secret), never stored in clear.
CREATE TABLE registries (
	host       TEXT PRIMARY KEY,
	username   TEXT NOT NULL,
	password   BLOB NOT NULL,
	created_at TEXT NOT NULL
);
