// Package sqlite keeps Jack's state (jack.Store) in one SQLite database file,
// through modernc.org/sqlite so that the jack binary stays pure Go.
//
// The database runs in WAL mode, so readers never wait for the writer, with
// foreign keys on. Writes are serialized inside the process by a lock and
// begin with BEGIN IMMEDIATE, so concurrent writers queue instead of failing
// with SQLITE_BUSY, and every read-check-write (the next release number, the
// one running deployment per environment) is atomic. The schema comes from
// embedded, ordered migrations applied when the database is opened.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/secret"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// maxOpenConns bounds the pool: one connection writes at a time, the others
// read concurrently, which WAL allows.
const maxOpenConns = 8

// busyTimeout is how long a connection waits for a lock another process
// holds before SQLITE_BUSY; within the process the write lock queues writers.
const busyTimeout = 10 * time.Second

// DB is Jack's state in an SQLite database. It implements jack.Store and is
// safe for use by many goroutines.
type DB struct {
	db   *sql.DB
	path string

	// writeLock admits one write transaction at a time. It is a channel
	// rather than a mutex so that a waiting writer gives up when its
	// context ends.
	writeLock chan struct{}

	// Now returns the current time, stamped on what the store creates.
	// It defaults to time.Now; tests replace it to control time.
	Now func() time.Time

	// Secrets seals what the store keeps but must not show (registry
	// passwords) with the server's secret key. Set before first use; the
	// methods that need it fail without it.
	Secrets *secret.Box
}

var _ jack.Store = (*DB)(nil)

// Open opens (creating if needed) the database file at path, with its
// folder, and brings its schema up to date.
func Open(path string) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("open database: no path given")
	} else if strings.ContainsAny(path, "?#") || path == ":memory:" {
		return nil, fmt.Errorf("open database: %q is not a plain file path", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create database folder: %w", err)
	}

	// Pragmas go in the DSN so that every connection of the pool gets them.
	// _txlock=immediate makes read-write transactions take the write lock
	// when they begin; read-only ones begin deferred.
	dsn := path + "?" + strings.Join([]string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()),
		"_pragma=foreign_keys(1)",
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(NORMAL)",
		"_txlock=immediate",
	}, "&")
	sqlDB, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	sqlDB.SetMaxOpenConns(maxOpenConns)
	sqlDB.SetMaxIdleConns(maxOpenConns)

	db := &DB{db: sqlDB, path: path, writeLock: make(chan struct{}, 1), Now: time.Now}
	if err := db.migrate(context.Background()); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("migrate database %s: %w", path, err)
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error {
	if err := db.db.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return nil
}

// migrate applies, in name order, each embedded migration that the
// schema_migrations table does not list yet, each in its own transaction.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name       TEXT PRIMARY KEY,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.migrateFile(ctx, name); err != nil {
			return fmt.Errorf("apply %s: %w", name, err)
		}
	}
	return nil
}

// migrateFile applies one migration unless it has been applied already.
func (db *DB) migrateFile(ctx context.Context, name string) error {
	base := filepath.Base(name)
	return db.write(ctx, func(tx *tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE name = ?`, base).Scan(&n); err != nil {
			return fmt.Errorf("check schema_migrations: %w", err)
		} else if n > 0 {
			return nil
		}
		script, err := fs.ReadFile(migrationFS, name)
		if err != nil {
			return fmt.Errorf("read migration: %w", err)
		}
		if _, err := tx.ExecContext(ctx, string(script)); err != nil {
			return fmt.Errorf("run migration: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`,
			base, formatTime(tx.now)); err != nil {
			return fmt.Errorf("record migration: %w", err)
		}
		return nil
	})
}

// tx is a transaction with the time it began, which is what "now" means to
// everything the transaction stamps.
type tx struct {
	*sql.Tx
	now time.Time
}

// write runs fn in a read-write transaction, committed if fn returns nil.
// Only one runs at a time.
func (db *DB) write(ctx context.Context, fn func(*tx) error) error {
	select {
	case db.writeLock <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("wait for the database: %w", ctx.Err())
	}
	defer func() { <-db.writeLock }()
	return db.run(ctx, nil, fn)
}

// read runs fn in a read-only transaction, which sees one snapshot of the
// database and runs alongside the writer.
func (db *DB) read(ctx context.Context, fn func(*tx) error) error {
	return db.run(ctx, &sql.TxOptions{ReadOnly: true}, fn)
}

func (db *DB) run(ctx context.Context, opts *sql.TxOptions, fn func(*tx) error) error {
	sqlTx, err := db.db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(&tx{Tx: sqlTx, now: db.Now().UTC()}); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// timeFormat is RFC 3339 in UTC with a fixed nine-digit fraction, so that
// stored times sort as text in the order they happened.
const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// encodeConfig stores config values as base64 inside JSON: a value may be
// any bytes but NUL, which JSON strings can't carry unchanged.
func encodeConfig(config map[string]string) (string, error) {
	raw := make(map[string][]byte, len(config))
	for k, v := range config {
		raw[k] = []byte(v)
	}
	return encodeJSON(raw)
}

func decodeConfig(s string) (map[string]string, error) {
	var raw map[string][]byte
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("decode stored config: %w", err)
	}
	config := make(map[string]string, len(raw))
	for k, v := range raw {
		config[k] = string(v)
	}
	return config, nil
}

func encodeScale(scale map[string]int) (string, error) {
	if scale == nil {
		return "{}", nil
	}
	return encodeJSON(scale)
}

func decodeScale(s string) (map[string]int, error) {
	scale := map[string]int{}
	if err := json.Unmarshal([]byte(s), &scale); err != nil {
		return nil, fmt.Errorf("decode stored scale: %w", err)
	}
	if scale == nil {
		scale = map[string]int{}
	}
	return scale, nil
}

func encodeJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %T: %w", v, err)
	}
	return string(b), nil
}

func decodeJSON(s string, v any) error {
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("decode stored %T: %w", v, err)
	}
	return nil
}

// placeholders returns "?, ?, ?" for n arguments.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
