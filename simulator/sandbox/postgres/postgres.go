// Package postgres is the sandbox's Store on PostgreSQL, with pgx: the
// store several sandbox replicas share.
//
// Every write of the Store is one transaction, committed when its method
// returns (most are one round trip: a pgx batch runs as one implicit
// transaction). Claims take pending deliveries with FOR UPDATE SKIP
// LOCKED under a lease, so that replicas claiming at the same moment
// never take the same delivery, and a replica that dies (SIGKILL) loses
// its claims when their leases run out. Leases are measured on the
// replicas' wall clocks, which must agree to well within a lease (NTP).
//
// The schema lives in the database's current schema (the connection's
// search_path: postgres://.../db?search_path=kycsim gives the sandbox a
// schema of its own in a shared database). Open refuses a schema that
// holds tables that are not the sandbox's, and one written by a newer
// kycsim.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kycsim/kycsim/simulator/sandbox"
)

//go:embed migration/*.sql
var migrationFS embed.FS

// Tables returns the tables the sandbox's schema holds (schema_version
// and those its migrations create): the only ones Open accepts in the
// schema it is given.
func Tables() []string {
	ms, _ := migrations()
	return sandbox.TablesOf(ms)
}

// IsURL reports whether a --db value names a PostgreSQL database
// (postgres:// or postgresql://) rather than a SQLite file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Redact returns a database URL with its password replaced, for messages
// and logs.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// DB is the sandbox Store on one PostgreSQL database (schema).
type DB struct {
	// URL is the connection URL (postgres://user:password@host/db?...).
	URL string
	// MaxConns bounds the connection pool; 4 per CPU, at least 8, when 0.
	MaxConns int32
	// Now is the time the store sets on what it writes when the caller
	// left a time zero; time.Now when nil.
	Now func() time.Time

	pool *pgxpool.Pool
}

var _ sandbox.Store = (*DB)(nil)

// NewDB returns a DB on the database at url; call Open.
func NewDB(url string) *DB { return &DB{URL: url} }

// Open connects, checks that the schema is the sandbox's (or empty) and
// brings it up to date. Replicas that open at the same moment take turns
// (an advisory lock), so that each migration is applied once.
func (db *DB) Open(ctx context.Context) error {
	where := Redact(db.URL)
	cfg, err := pgxpool.ParseConfig(db.URL)
	if err != nil {
		return fmt.Errorf("open sandbox database %s: %w", where, err)
	}
	if db.MaxConns > 0 {
		cfg.MaxConns = db.MaxConns
	} else {
		cfg.MaxConns = int32(max(8, 4*runtime.GOMAXPROCS(0)))
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "kycsim-sandbox"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("open sandbox database %s: %w", where, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return fmt.Errorf("open sandbox database %s: %w", where, err)
	}
	db.pool = pool
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return fmt.Errorf("open sandbox database %s: %w", where, err)
	}
	return nil
}

// Close closes the connections.
func (db *DB) Close() error {
	if db.pool != nil {
		db.pool.Close()
		db.pool = nil
	}
	return nil
}

// migrations are this store's schema changes, in order.
func migrations() ([]sandbox.Migration, error) {
	return sandbox.Migrations(migrationFS, "migration")
}

// SchemaVersion is the schema version this package writes.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// migrate checks the schema's tables and applies the migrations it has
// not seen, all in one transaction under an advisory lock.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('kycsim-sandbox:' || current_schema()))`); err != nil {
			return fmt.Errorf("lock the schema: %w", err)
		}
		var schema *string
		if err := tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			return fmt.Errorf("current schema: %w", err)
		}
		if schema == nil {
			return errors.New("no current schema: the search_path names no schema that exists")
		}
		rows, err := tx.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`)
		if err != nil {
			return fmt.Errorf("list tables: %w", err)
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("list tables: %w", err)
		}
		known := sandbox.TablesOf(ms)
		var foreign []string
		for _, t := range tables {
			if !slices.Contains(known, t) {
				foreign = append(foreign, t)
			}
		}
		if len(foreign) > 0 {
			return fmt.Errorf("schema %q: %w (%s): give the sandbox a database or a schema of its own (postgres://.../DB?search_path=SCHEMA)",
				*schema, sandbox.ErrForeignDatabase, strings.Join(foreign, ", "))
		}
		if len(tables) > 0 && !slices.Contains(tables, "schema_version") {
			return fmt.Errorf("schema %q holds sandbox tables but no schema_version: it was not made by kycsim", *schema)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			version    integer PRIMARY KEY,
			name       text    NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return fmt.Errorf("schema_version table: %w", err)
		}
		var newest int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&newest); err != nil {
			return fmt.Errorf("schema version: %w", err)
		}
		if newest > len(ms) {
			return fmt.Errorf("the database has schema version %d; this kycsim knows %d: use a newer kycsim", newest, len(ms))
		}
		for _, m := range ms[newest:] {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migrate to %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return fmt.Errorf("migrate to %s: %w", m.Name, err)
			}
		}
		return nil
	})
}

// Version returns the database's schema version.
func (db *DB) Version(ctx context.Context) (int, error) {
	var v int
	if err := db.q().QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}

// ClockHighWater implements sandbox.Store.
func (db *DB) ClockHighWater(ctx context.Context) (time.Time, error) {
	var n int64
	err := db.q().QueryRow(ctx, `SELECT greatest(
		coalesce((SELECT max(updated_at) FROM verifications), 0),
		coalesce((SELECT max(at) FROM attempts), 0),
		coalesce((SELECT high_water FROM clock WHERE id = 1), 0))`).Scan(&n)
	if err != nil {
		return time.Time{}, fmt.Errorf("clock high water: %w", err)
	}
	return fromNanos(&n), nil
}

// SyncClock implements sandbox.Store.
func (db *DB) SyncClock(ctx context.Context, t time.Time) (time.Time, error) {
	var hw int64
	err := db.q().QueryRow(ctx, `UPDATE clock SET high_water = greatest(high_water, $1) WHERE id = 1 RETURNING high_water`, nanos(t)).Scan(&hw)
	if err != nil {
		return time.Time{}, fmt.Errorf("sync the sandbox clock: %w", err)
	}
	return fromNanos(&hw), nil
}

// PendingCount returns how many deliveries are pending.
func (db *DB) PendingCount(ctx context.Context) (int, error) {
	var n int
	if err := db.q().QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE state = 'pending'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("pending count: %w", err)
	}
	return n, nil
}

// querier is what the store runs statements on: the pool, a transaction
// or a closed store.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	Begin(ctx context.Context) (pgx.Tx, error)
}

// q returns the pool, or a querier that fails when the DB is not open.
func (db *DB) q() querier {
	if db.pool == nil {
		return closedQuerier{}
	}
	return db.pool
}

var errClosed = errors.New("the database is not open")

type closedQuerier struct{}

func (closedQuerier) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	return pgconn.CommandTag{}, errClosed
}
func (closedQuerier) Query(context.Context, string, ...any) (pgx.Rows, error) { return nil, errClosed }
func (closedQuerier) QueryRow(context.Context, string, ...any) pgx.Row        { return errRow{} }
func (closedQuerier) SendBatch(context.Context, *pgx.Batch) pgx.BatchResults {
	return errBatch{}
}
func (closedQuerier) Begin(context.Context) (pgx.Tx, error) { return nil, errClosed }

type errRow struct{}

func (errRow) Scan(...any) error { return errClosed }

type errBatch struct{}

func (errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, errClosed }
func (errBatch) Query() (pgx.Rows, error)         { return nil, errClosed }
func (errBatch) QueryRow() pgx.Row                { return errRow{} }
func (errBatch) Close() error                     { return errClosed }
func (errBatch) Tx() pgx.Tx                       { return nil }

func (db *DB) now() time.Time {
	if db.Now != nil {
		return db.Now()
	}
	return time.Now()
}

// nanos stores a time: 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// nullNanos stores a time that may be absent: NULL for the zero time.
func nullNanos(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := t.UnixNano()
	return &n
}

// fromNanos reads a time stored by nanos or nullNanos.
func fromNanos(n *int64) time.Time {
	if n == nil || *n == 0 {
		return time.Time{}
	}
	return time.Unix(0, *n).UTC()
}

// The PostgreSQL error codes the store turns into domain errors.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
)

// pgCode returns the SQLSTATE of a PostgreSQL error, "" for another.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// externalRefIndex is the unique index that keeps one Sumsub applicant
// per externalUserId (migration 0004).
const externalRefIndex = "verifications_sumsub_external"

// externalRefTaken turns a violation of externalRefIndex into ETAKEN
// naming the reference; other errors pass through.
func externalRefTaken(err error, v *sandbox.Verification) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == codeUniqueViolation && pe.ConstraintName == externalRefIndex {
		return sandbox.Errorf(sandbox.ETAKEN, "verification %s: %s external reference %q is taken", v.ID, v.Product, v.ExternalRef)
	}
	return err
}
