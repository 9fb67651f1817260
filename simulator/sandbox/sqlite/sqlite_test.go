package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kycsim/kycsim/simulator/sandbox"
	"github.com/kycsim/kycsim/simulator/sandbox/sandboxtest"
	"github.com/kycsim/kycsim/simulator/sandbox/sqlite"
)

// openDB opens a database at path (or sqlite.Memory) closed at the end of
// the test.
func openDB(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db := sqlite.NewDB(path)
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStoreMemory(t *testing.T) {
	sandboxtest.TestStore(t, func(t *testing.T) sandbox.Store { return openDB(t, sqlite.Memory) })
}

func TestStoreFile(t *testing.T) {
	sandboxtest.TestStore(t, func(t *testing.T) sandbox.Store {
		return openDB(t, filepath.Join(t.TempDir(), "sandbox.db"))
	})
}

// TestMemoryIsOneDatabase checks that every query of a :memory: store
// sees the same database (with database/sql, each connection to :memory:
// would be a database of its own).
func TestMemoryIsOneDatabase(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, sqlite.Memory)
	if err := db.CreateVerification(ctx, sandboxtest.NewVerification("wx-1")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := db.Verification(ctx, "wx-1")
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	// Two :memory: stores are two databases.
	other := openDB(t, sqlite.Memory)
	if _, err := other.Verification(ctx, "wx-1"); sandbox.ErrorCode(err) != sandbox.ENOTFOUND {
		t.Errorf("a second :memory: store sees the first's data: %v", err)
	}
}

func TestPragmas(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		sync string
		want string // PRAGMA synchronous: 1 NORMAL, 2 FULL
	}{{"", "1"}, {sqlite.SynchronousFull, "2"}} {
		db := sqlite.NewDB(filepath.Join(t.TempDir(), "sandbox.db"))
		db.Synchronous = tc.sync
		if err := db.Open(ctx); err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]string{"journal_mode": "wal", "synchronous": tc.want, "foreign_keys": "1", "busy_timeout": "10000"} {
			got, err := db.Pragma(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("synchronous %q: PRAGMA %s = %s, want %s", tc.sync, name, got, want)
			}
		}
		db.Close()
	}
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "x.db"))
	db.Synchronous = "OFF"
	if err := db.Open(ctx); err == nil || !strings.Contains(err.Error(), "synchronous") {
		t.Errorf("synchronous OFF: %v, want a refusal", err)
	}
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a db?#%.db") // characters a SQLite URI must escape
	db := sqlite.NewDB(path)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err := db.Version(ctx); err != nil || v != sqlite.SchemaVersion() || v < 1 {
		t.Fatalf("Version = %d, %v; want %d", v, err, sqlite.SchemaVersion())
	}
	if err := db.CreateVerification(ctx, sandboxtest.NewVerification("wx-1")); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// Opening again applies nothing and keeps the data.
	db = sqlite.NewDB(path)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Verification(ctx, "wx-1"); err != nil {
		t.Errorf("after reopening: %v", err)
	}
	db.Close()

	// A database from a newer kycsim is refused, not written to.
	raw, err := sql.Open("sqlite", "file:"+strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO schema_version (version, name, applied_at) VALUES (?, 'future', '')`, sqlite.SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db = sqlite.NewDB(path)
	if err := db.Open(ctx); err == nil || !strings.Contains(err.Error(), "newer kycsim") {
		t.Errorf("open a newer schema: %v, want a refusal", err)
		db.Close()
	}
}

// TestSecondOpenRefused checks that a database file one store has open
// cannot be opened by another (another sandbox process; within one
// process the lock holds too), and can once the first is closed.
func TestSecondOpenRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sandbox.db")
	first := openDB(t, path)
	second := sqlite.NewDB(path)
	err := second.Open(ctx)
	if !errors.Is(err, sqlite.ErrLocked) {
		second.Close()
		t.Fatalf("second open = %v, want ErrLocked", err)
	}
	for _, want := range []string{path, "another kycsim sandbox", "postgres://"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	first.Close()
	if err := second.Open(ctx); err != nil {
		t.Fatalf("open after the first closed: %v", err)
	}
	second.Close()
}

// TestForeignDatabaseRefused checks that another application's database
// is refused and left as it was, and that the sandbox's own tables are
// those its migrations make.
func TestForeignDatabaseRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "app.db")
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE users (id INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	db := sqlite.NewDB(path)
	err = db.Open(ctx)
	if err == nil || !strings.Contains(err.Error(), "not the sandbox's (users)") {
		t.Errorf("open another application's database: %v, want a refusal naming its table", err)
	}
	db.Close()
	var n int
	if err := raw.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'table'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("the refused database has %d tables (%v), want its 1", n, err)
	}
	raw.Close()

	ownPath := filepath.Join(t.TempDir(), "sandbox.db")
	openDB(t, ownPath)
	raw, err = sql.Open("sqlite", "file:"+ownPath)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.Query(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var name string
		rows.Scan(&name)
		got = append(got, name)
	}
	rows.Close()
	if !slices.Equal(got, sqlite.Tables()) {
		t.Errorf("the sandbox's tables are %v; sqlite.Tables says %v", got, sqlite.Tables())
	}
}

func TestResponseSnippetBounded(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, sqlite.Memory)
	d := sandboxtest.NewDelivery("", 1, sandboxtest.T0)
	if err := db.Enqueue(ctx, d); err != nil {
		t.Fatal(err)
	}
	ds, err := db.Claim(ctx, sandbox.Claim{Due: sandboxtest.T0, Now: sandboxtest.W0, Until: sandboxtest.W0.Add(1e9), Limit: 1})
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %v %v", ds, err)
	}
	big := []byte(strings.Repeat("x", 3*sandbox.ResponseSnippetBytes))
	o := ds[0].Outcome(sandbox.Attempt{DeliveryID: d.ID, Cycle: 1, Number: 1, Time: sandboxtest.T0, Status: 200, Response: big}, sandboxtest.T0)
	if err := db.Record(ctx, o); err != nil {
		t.Fatal(err)
	}
	got, err := db.Delivery(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got.History[0].Response); n != sandbox.ResponseSnippetBytes {
		t.Errorf("kept %d bytes of the answer, want %d", n, sandbox.ResponseSnippetBytes)
	}
}

func TestClosed(t *testing.T) {
	db := openDB(t, sqlite.Memory)
	db.Close()
	if err := db.Enqueue(context.Background(), sandboxtest.NewDelivery("", 1, sandboxtest.T0)); err == nil {
		t.Error("Enqueue on a closed store: no error")
	}
}

// TestGroupCommitIsolatesFailures sends many writes at once, so that they
// share transactions, half of them bound to fail after writing a row (a
// delivery, then one of an unknown verification): each failure must undo
// its own writes only.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "sandbox.db"))
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				errs[i] = db.Enqueue(ctx, sandboxtest.NewDelivery("", i, sandboxtest.T0), sandboxtest.NewDelivery("unknown", i, sandboxtest.T0))
				return
			}
			errs[i] = db.CreateVerification(ctx, sandboxtest.NewVerification(fmt.Sprintf("new-%d", i)), sandboxtest.NewDelivery("", i, sandboxtest.T0))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		want := ""
		if i%2 == 0 {
			want = sandbox.ENOTFOUND
		}
		if got := sandbox.ErrorCode(err); got != want {
			t.Errorf("write %d: %v, want code %q", i, err, want)
		}
	}
	ds := allDeliveries(t, db)
	if len(ds) != n/2 {
		t.Errorf("%d deliveries written, want %d (the failed writes' must be undone)", len(ds), n/2)
	}
	for _, d := range ds {
		if !strings.HasPrefix(d.VerificationID, "new-") {
			t.Errorf("delivery %d (%s): written by an enqueue that failed", d.ID, d.Subject)
		}
	}
}
