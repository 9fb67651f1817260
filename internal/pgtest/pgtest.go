// Package pgtest gives tests a PostgreSQL schema of their own, in the
// database that KYCSIM_TEST_POSTGRES names (a postgres:// URL; .ci/run
// starts a server and sets it). Without it, the tests that need
// PostgreSQL skip, saying how to run them.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env is the environment variable that names the test database.
const Env = "KYCSIM_TEST_POSTGRES"

// Skip is the message a test that needs PostgreSQL skips with.
const Skip = Env + " is not set: these tests need a PostgreSQL database they may create schemas in, " +
	"e.g. " + Env + "=postgres://kycsim:kycsim@127.0.0.1:5432/kycsim_test (bash .ci/run starts one; see README, \"The sandbox on PostgreSQL\")"

// Require skips the test, saying how to run it, when Env is not set.
func Require(t testing.TB) {
	t.Helper()
	if os.Getenv(Env) == "" {
		t.Skip(Skip)
	}
}

// URL returns the URL of a new, empty schema in the test database,
// dropped when the test ends; it skips the test when Env is not set.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(Env)
	if base == "" {
		t.Skip(Skip)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "kycsim_test_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
