// Package sqlite is the sandbox's Store on embedded SQLite, with the pure
// Go driver modernc.org/sqlite (so `go run` needs no C toolchain).
//
// Durability. The database runs in WAL mode. Every write of the Store is
// atomic and committed when its method returns: writes go to one
// committer goroutine that runs those queued at the same moment in one
// transaction begun IMMEDIATE (group commit; each write inside a
// SAVEPOINT of its own, so that one that fails is undone alone; see
// commit.go). synchronous is NORMAL by default: a commit is in the WAL
// file when it returns, so it survives the death of the process (SIGKILL
// at any moment, the crash the sandbox is built for, tested by
// TestSIGKILL), and the database is never corrupted; only an operating
// system crash or a power cut can take back the last commits before the
// next checkpoint. Synchronous FULL also syncs the WAL at every commit
// and survives those too, at the cost of an fsync per group; set
// DB.Synchronous for it.
//
// Connections. A file database has one writing connection (SQLite allows
// one writer at a time; queuing in Go is cheaper than spinning on
// SQLITE_BUSY) and a pool of read-only ones, which WAL lets read while
// the writer writes. ":memory:" is one connection for everything: with
// database/sql each connection to :memory: would be a database of its
// own.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/kycsim/kycsim/simulator/sandbox"
)

//go:embed migration/*.sql
var migrationFS embed.FS

// Memory is the path of a database kept in memory only.
const Memory = ":memory:"

// The synchronous settings DB.Synchronous takes.
const (
	SynchronousNormal = "NORMAL"
	SynchronousFull   = "FULL"
)

// DefaultBusyTimeout is how long a connection waits for another process's
// lock before a write fails with SQLITE_BUSY.
const DefaultBusyTimeout = 10 * time.Second

// DB is the sandbox Store on one SQLite database.
type DB struct {
	// Path is the database file, or Memory.
	Path string
	// Synchronous is SynchronousNormal (the default) or SynchronousFull.
	Synchronous string
	// BusyTimeout is DefaultBusyTimeout when 0.
	BusyTimeout time.Duration
	// Now is the time the store sets on what it writes when the caller
	// left a time zero; time.Now when nil.
	Now func() time.Time

	write *sql.DB // one connection
	read  *sql.DB // read-only connections; == write for Memory

	// The statements of fixed text, prepared once (SQLite's parser is a
	// third of a write's cost otherwise): the write transactions' at
	// Open, the reads' on first use.
	mu         sync.Mutex
	committer  *committer
	writeStmts map[string]*sql.Stmt
	readStmts  map[string]*sql.Stmt
	// lock holds the file's exclusive lock while the store is open.
	lock *os.File
}

// ErrLocked is the error of opening a database file that another sandbox
// process has open.
var ErrLocked = errors.New("another kycsim sandbox has this database file open (one process per SQLite file: stop the other, give this one another --db, or run several replicas on --db postgres://...)")

var _ sandbox.Store = (*DB)(nil)

// NewDB returns a DB on the file at path (or Memory); call Open.
func NewDB(path string) *DB { return &DB{Path: path} }

// Open opens the database, creating it if needed, and brings its schema
// up to date.
func (db *DB) Open(ctx context.Context) error {
	if db.Path == "" {
		return errors.New("open sandbox database: no path")
	}
	if db.Synchronous == "" {
		db.Synchronous = SynchronousNormal
	}
	if db.Synchronous != SynchronousNormal && db.Synchronous != SynchronousFull {
		return fmt.Errorf("open sandbox database: synchronous %q: want %s or %s", db.Synchronous, SynchronousNormal, SynchronousFull)
	}
	if db.BusyTimeout <= 0 {
		db.BusyTimeout = DefaultBusyTimeout
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", db.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	if db.Path == Memory {
		w, err := sql.Open("sqlite", Memory+"?"+q.Encode())
		if err != nil {
			return fmt.Errorf("open sandbox database: %w", err)
		}
		// One connection that never closes: it is the database.
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		w.SetConnMaxLifetime(0)
		w.SetConnMaxIdleTime(0)
		db.write, db.read = w, w
	} else {
		lock, err := lockFile(db.Path)
		if err != nil {
			return fmt.Errorf("open sandbox database %s: %w", db.Path, err)
		}
		db.lock = lock
		name := "file:" + escapePath(db.Path)
		wq := cloneValues(q)
		wq.Add("_pragma", "journal_mode(WAL)")
		wq.Add("_pragma", "synchronous("+db.Synchronous+")")
		w, err := sql.Open("sqlite", name+"?"+wq.Encode())
		if err != nil {
			db.unlock()
			return fmt.Errorf("open sandbox database %s: %w", db.Path, err)
		}
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		w.SetConnMaxLifetime(0)
		db.write = w
		// Make the file (and WAL mode) before the readers open it.
		if err := w.PingContext(ctx); err != nil {
			w.Close()
			db.unlock()
			return fmt.Errorf("open sandbox database %s: %w", db.Path, err)
		}
		rq := cloneValues(q)
		rq.Set("_query_only", "1")
		rq.Del("_txlock")
		r, err := sql.Open("sqlite", name+"?"+rq.Encode())
		if err != nil {
			w.Close()
			db.unlock()
			return fmt.Errorf("open sandbox database %s: %w", db.Path, err)
		}
		n := max(4, runtime.GOMAXPROCS(0))
		r.SetMaxOpenConns(n)
		r.SetMaxIdleConns(n)
		db.read = r
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return fmt.Errorf("open sandbox database %s: %w", db.Path, err)
	}
	if err := db.prepareWrites(ctx); err != nil {
		db.Close()
		return fmt.Errorf("open sandbox database %s: %w", db.Path, err)
	}
	db.startCommitter()
	return nil
}

// Close closes the database. A file database is checkpointed by SQLite
// when its last connection closes.
func (db *DB) Close() error {
	db.stopCommitter()
	var err error
	db.mu.Lock()
	for _, m := range []map[string]*sql.Stmt{db.writeStmts, db.readStmts} {
		for _, st := range m {
			err = errors.Join(err, st.Close())
		}
	}
	db.writeStmts, db.readStmts = nil, nil
	db.mu.Unlock()
	if db.read != nil && db.read != db.write {
		err = db.read.Close()
	}
	if db.write != nil {
		err = errors.Join(err, db.write.Close())
	}
	db.read, db.write = nil, nil
	db.unlock()
	if err != nil {
		return fmt.Errorf("close sandbox database: %w", err)
	}
	return nil
}

// unlock releases the file's lock (after every connection closed: closing
// any descriptor of the file would drop SQLite's own locks with it).
func (db *DB) unlock() {
	if db.lock != nil {
		db.lock.Close()
		db.lock = nil
	}
}

// escapePath makes a file path safe in a SQLite URI (file:PATH?query).
func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
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

// migrate applies the migrations the database has not seen, each in its
// own transaction with its row in schema_version.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := db.checkTables(ctx, ms); err != nil {
		return err
	}
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at TEXT    NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("migrate: schema_version table: %w", err)
	}
	for _, m := range ms {
		err := db.directTx(ctx, func(tx *sql.Tx) error {
			var newest int
			if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&newest); err != nil {
				return err
			}
			if newest > len(ms) {
				return fmt.Errorf("the database has schema version %d; this kycsim knows %d: use a newer kycsim", newest, len(ms))
			}
			if m.Version <= newest {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, time.Now().UTC().Format(time.RFC3339Nano))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate to %s: %w", m.Name, err)
		}
	}
	return nil
}

// Tables returns the tables the sandbox's schema holds: schema_version
// and those its migrations create.
func Tables() []string {
	ms, _ := migrations()
	return sandbox.TablesOf(ms)
}

// checkTables refuses a database that holds tables the sandbox did not
// make: another application's database, which migrating would extend.
func (db *DB) checkTables(ctx context.Context, ms []sandbox.Migration) error {
	rows, err := db.write.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	known := sandbox.TablesOf(ms)
	var foreign []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return fmt.Errorf("list tables: %w", err)
		}
		if !slices.Contains(known, name) {
			foreign = append(foreign, name)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	if len(foreign) > 0 {
		return fmt.Errorf("%w (%s): it belongs to another application; give the sandbox a file of its own", sandbox.ErrForeignDatabase, strings.Join(foreign, ", "))
	}
	return nil
}

// Version returns the database's schema version.
func (db *DB) Version(ctx context.Context) (int, error) {
	var v int
	if err := db.reader().QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}

// ClockHighWater implements sandbox.Store.
func (db *DB) ClockHighWater(ctx context.Context) (time.Time, error) {
	var n sql.NullInt64
	q := `SELECT max(coalesce((SELECT max(updated_at) FROM verifications), 0), coalesce((SELECT max(at) FROM attempts), 0),
		coalesce((SELECT high_water FROM clock WHERE id = 1), 0))`
	if err := db.reader().QueryRowContext(ctx, q).Scan(&n); err != nil {
		return time.Time{}, fmt.Errorf("clock high water: %w", err)
	}
	return fromNanos(n), nil
}

// SyncClock implements sandbox.Store.
func (db *DB) SyncClock(ctx context.Context, t time.Time) (time.Time, error) {
	var hw int64
	err := db.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return db.queryRow(ctx, tx, qSyncClock, nanos(t)).Scan(&hw)
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("sync the sandbox clock: %w", err)
	}
	return fromNanos(sql.NullInt64{Int64: hw, Valid: true}), nil
}

// PendingCount returns how many deliveries are pending.
func (db *DB) PendingCount(ctx context.Context) (int, error) {
	var n int
	if err := db.reader().QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE state = 'pending'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("pending count: %w", err)
	}
	return n, nil
}

// Pragma returns the value of a PRAGMA on the writing connection (for
// checks: journal_mode, synchronous, foreign_keys, busy_timeout).
func (db *DB) Pragma(ctx context.Context, name string) (string, error) {
	switch name {
	case "journal_mode", "synchronous", "foreign_keys", "busy_timeout":
	default:
		return "", fmt.Errorf("pragma %q: not one this store reports", name)
	}
	var v string
	if err := db.writer().QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
		return "", fmt.Errorf("pragma %s: %w", name, err)
	}
	return v, nil
}

// directTx runs fn in a write transaction of its own and commits it
// (for migrations, which run before the committer starts).
func (db *DB) directTx(ctx context.Context, fn func(*sql.Tx) error) (err error) {
	if db.write == nil {
		return errors.New("the database is not open")
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// closedDB answers every query of a DB that is not open with an error.
var closedDB = func() *sql.DB {
	db := sql.OpenDB(closedConnector{})
	return db
}()

type closedConnector struct{}

func (closedConnector) Connect(context.Context) (driver.Conn, error) {
	return nil, errors.New("the database is not open")
}
func (closedConnector) Driver() driver.Driver { return nil }

// writer returns the write pool, or one that fails when the DB is closed.
func (db *DB) writer() *sql.DB {
	if db.write == nil {
		return closedDB
	}
	return db.write
}

// reader returns the read pool, or one that fails when the DB is closed.
func (db *DB) reader() *sql.DB {
	if db.read == nil {
		return closedDB
	}
	return db.read
}

// prepareWrites prepares the statements of write transactions on the
// writing connection. It runs at Open, before any transaction: a
// statement prepared while one is open would wait for the one
// connection the transaction holds.
func (db *DB) prepareWrites(ctx context.Context) error {
	m := make(map[string]*sql.Stmt, len(writeQueries))
	for _, q := range writeQueries {
		st, err := db.write.PrepareContext(ctx, q)
		if err != nil {
			for _, st := range m {
				st.Close()
			}
			return fmt.Errorf("prepare %q: %w", strings.Fields(q)[:3], err)
		}
		m[q] = st
	}
	db.mu.Lock()
	db.writeStmts = m
	db.mu.Unlock()
	return nil
}

// readStmt returns the query q prepared on the read pool, preparing it
// the first time (with the lock not held: on a Memory database the read
// pool is the one writing connection, which a transaction may hold).
func (db *DB) readStmt(ctx context.Context, q string) (*sql.Stmt, error) {
	db.mu.Lock()
	st, ok := db.readStmts[q]
	db.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := db.reader().PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if prev, ok := db.readStmts[q]; ok {
		st.Close()
		return prev, nil
	}
	if db.readStmts == nil {
		db.readStmts = map[string]*sql.Stmt{}
	}
	db.readStmts[q] = st
	return st, nil
}

// txStmt returns the statement q for use in the write transaction tx:
// the one prepared at Open, or one prepared in tx for a statement that
// was not registered with writeQuery.
func (db *DB) txStmt(ctx context.Context, tx *sql.Tx, q string) (*sql.Stmt, error) {
	db.mu.Lock()
	st, ok := db.writeStmts[q]
	db.mu.Unlock()
	if !ok {
		return tx.PrepareContext(ctx, q)
	}
	return tx.StmtContext(ctx, st), nil
}

// exec runs the statement q in the write transaction tx.
func (db *DB) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	st, err := db.txStmt(ctx, tx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// query runs the query q in the transaction tx, or on the read pool when
// tx is nil.
func (db *DB) query(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	st, err := db.stmtFor(ctx, tx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// queryRow is query for one row.
func (db *DB) queryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) scanner {
	st, err := db.stmtFor(ctx, tx, q)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

func (db *DB) stmtFor(ctx context.Context, tx *sql.Tx, q string) (*sql.Stmt, error) {
	if tx == nil {
		return db.readStmt(ctx, q)
	}
	return db.txStmt(ctx, tx, q)
}

type scanner interface{ Scan(dest ...any) error }

// errRow is a row that could not be queried.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

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
func nullNanos(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

// fromNanos reads a time stored by nanos or nullNanos.
func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid || n.Int64 == 0 {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}
