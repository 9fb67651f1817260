package main

import (
	"bufio"
	"context"
	"database/sql"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// startServe runs `kycsim serve` in-process with the arguments and
// returns its base URL (from the banner), the banner, and a function that
// stops it and returns its exit code.
func startServe(t *testing.T, args ...string) (string, string, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &lockedWriter{w: &strings.Builder{}}
	m := &Main{Stdin: strings.NewReader(""), Stdout: pw, Stderr: stderr}
	done := make(chan int, 1)
	go func() {
		done <- m.Run(ctx, append([]string{"serve"}, args...))
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var banner []string
	for sc.Scan() {
		banner = append(banner, sc.Text())
		if strings.HasPrefix(sc.Text(), "no --webhook sumsub") || strings.HasPrefix(sc.Text(), "webhook sumsub") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if len(banner) == 0 || len(strings.Fields(banner[0])) < 4 {
		cancel()
		t.Fatalf("no banner; exit %d", <-done)
	}
	stop := func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(10 * time.Second):
			t.Fatal("serve did not stop")
			return -1
		}
	}
	t.Cleanup(func() { stop() })
	return strings.Fields(banner[0])[3], strings.Join(banner, "\n"), stop
}

func TestServeHardeningUsage(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(secretFile, []byte("\n"), 0o600)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--addr", "0.0.0.0:0", "--db", ":memory:", "--control-token", "t"}, "give --public-url"},
		{[]string{"serve", "--public-url", "notaurl"}, "--public-url"},
		{[]string{"serve", "--public-url", "javascript:alert(1)"}, "want an absolute http:// or https:// URL"},
		{[]string{"serve", "--public-url", "http://[::]:8089"}, "any-address"},
		{[]string{"serve", "--control-token", "a", "--control-token-file", secretFile}, "give one of them"},
		{[]string{"serve", "--control-token-file", filepath.Join(t.TempDir(), "none")}, "--control-token-file"},
		{[]string{"serve", "--control-token-file", secretFile}, "the file is empty"},
		{[]string{"serve", "--lease", "10ms"}, "--lease"},
	} {
		code, _, stderr := run(t, "", tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}

// TestServeOneProcessPerFile checks that a second sandbox on a SQLite
// file that one has open is refused, saying why and what to do.
func TestServeOneProcessPerFile(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sandbox.db")
	startServe(t, "--addr", "127.0.0.1:0", "--db", db)
	code, _, stderr := run(t, "", "serve", "--addr", "127.0.0.1:0", "--db", db)
	if code != 2 || !strings.Contains(stderr, "another kycsim sandbox has this database file open") || !strings.Contains(stderr, "postgres://") {
		t.Errorf("second serve on %s: exit %d, stderr %q", db, code, stderr)
	}
}

// TestServeRefusesForeignDatabase checks that another application's
// SQLite database is refused and left alone.
func TestServeRefusesForeignDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE orders (id INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	code, _, stderr := run(t, "", "serve", "--addr", "127.0.0.1:0", "--db", path)
	if code != 2 || !strings.Contains(stderr, "not the sandbox's (orders)") {
		t.Errorf("serve on another application's database: exit %d, stderr %q", code, stderr)
	}
}

// TestServeSecretsFromEnvAndFiles checks that the secrets can stay out of
// the process list: the control token from $KYCSIM_CONTROL_TOKEN, the
// Jumio client from a file, and that the banner does not show them.
func TestServeSecretsFromEnvAndFiles(t *testing.T) {
	t.Setenv("KYCSIM_CONTROL_TOKEN", "env-ctl-token")
	client := filepath.Join(t.TempDir(), "jumio")
	if err := os.WriteFile(client, []byte("file-id:file-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base, banner, _ := startServe(t, "--addr", "127.0.0.1:0", "--db", ":memory:", "--jumio-client-file", client)
	for _, secret := range []string{"env-ctl-token", "file-secret"} {
		if strings.Contains(banner, secret) {
			t.Errorf("the banner shows a secret:\n%s", banner)
		}
	}
	if !strings.Contains(banner, "file-id:(set, from --jumio-client-file)") {
		t.Errorf("the banner does not say where the Jumio client came from:\n%s", banner)
	}
	status := func(req *http.Request) int {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	req, _ := http.NewRequest("GET", base+"/_sandbox/deliveries", nil)
	if code := status(req); code != 401 {
		t.Errorf("control API without the token: %d, want 401", code)
	}
	req.Header.Set("Authorization", "Bearer env-ctl-token")
	if code := status(req); code != 200 {
		t.Errorf("control API with the token from the environment: %d, want 200", code)
	}
	req, _ = http.NewRequest("POST", base+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("file-id", "file-secret")
	if code := status(req); code != 200 {
		t.Errorf("Jumio token with the client from the file: %d, want 200", code)
	}
}
