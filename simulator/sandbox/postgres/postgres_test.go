package postgres_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/kycsim/kycsim/internal/pgtest"
	"github.com/kycsim/kycsim/simulator/sandbox"
	"github.com/kycsim/kycsim/simulator/sandbox/postgres"
	"github.com/kycsim/kycsim/simulator/sandbox/sandboxtest"
)

// openDB opens a store on a new schema of the test database, closed at
// the end of the test.
func openDB(t testing.TB) (*postgres.DB, string) {
	t.Helper()
	u := pgtest.URL(t)
	db := postgres.NewDB(u)
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, u
}

func TestStore(t *testing.T) {
	pgtest.Require(t)
	sandboxtest.TestStore(t, func(t *testing.T) sandbox.Store {
		db, _ := openDB(t)
		return db
	})
}

// exec runs statements on the database at u.
func exec(t *testing.T, u string, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func tables(t *testing.T, u string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	db, u := openDB(t)
	if v, err := db.Version(ctx); err != nil || v != postgres.SchemaVersion() || v < 1 {
		t.Fatalf("Version = %d, %v; want %d", v, err, postgres.SchemaVersion())
	}
	if got := tables(t, u); !reflect.DeepEqual(got, postgres.Tables()) {
		t.Errorf("tables %v; postgres.Tables says %v", got, postgres.Tables())
	}
	if err := db.CreateVerification(ctx, sandboxtest.NewVerification("wx-1")); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// Opening again applies nothing and keeps the data.
	db = postgres.NewDB(u)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Verification(ctx, "wx-1"); err != nil {
		t.Errorf("after reopening: %v", err)
	}
	db.Close()

	// A database from a newer kycsim is refused, not written to.
	exec(t, u, fmt.Sprintf(`INSERT INTO schema_version (version, name) VALUES (%d, 'future')`, postgres.SchemaVersion()+1))
	db = postgres.NewDB(u)
	if err := db.Open(ctx); err == nil || !strings.Contains(err.Error(), "newer kycsim") {
		t.Errorf("open a newer schema: %v, want a refusal", err)
		db.Close()
	}
}

// TestForeignSchemaRefused checks that a schema holding another
// application's tables is refused and left as it was.
func TestForeignSchemaRefused(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	exec(t, u, `CREATE TABLE users (id int PRIMARY KEY)`, `CREATE TABLE verifications (id int)`)
	db := postgres.NewDB(u)
	err := db.Open(ctx)
	if err == nil {
		db.Close()
		t.Fatal("opened a schema with another application's tables")
	}
	for _, want := range []string{"not the sandbox's", "users", "search_path"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if got := tables(t, u); !reflect.DeepEqual(got, []string{"users", "verifications"}) {
		t.Errorf("the refused schema was changed: tables %v", got)
	}
}

// TestReplicasOpenTogether opens one schema from several stores at once,
// as replicas starting together do: the migrations run once.
func TestReplicasOpenTogether(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	const n = 4
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db := postgres.NewDB(u)
			if errs[i] = db.Open(ctx); errs[i] == nil {
				db.Close()
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://kycsim:s3cr3t@db:5432/x?sslmode=disable": "postgres://kycsim:xxxxx@db:5432/x?sslmode=disable",
		"postgres://db/x?password=s3cr3t&user=u":             "postgres://db/x?password=xxxxx&user=u",
		"postgres://db/x":                                    "postgres://db/x",
	} {
		if got := postgres.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOpenBadURL(t *testing.T) {
	db := postgres.NewDB("postgres://kycsim:s3cr3t@127.0.0.1:1/x?connect_timeout=2")
	err := db.Open(context.Background())
	if err == nil {
		db.Close()
		t.Fatal("opened a database on port 1")
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("the error shows the password: %v", err)
	}
}
