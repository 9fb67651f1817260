package sqlite_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kycsim/kycsim/internal/testpoll"
	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/sandbox"
	"github.com/kycsim/kycsim/simulator/sandbox/sandboxtest"
	"github.com/kycsim/kycsim/simulator/sandbox/sqlite"
)

// The environment of a crash test's child process.
const (
	envChild    = "KYCSIM_SANDBOX_CRASH_CHILD" // the trial number
	envDB       = "KYCSIM_SANDBOX_CRASH_DB"
	envReceiver = "KYCSIM_SANDBOX_CRASH_RECEIVER"
)

func TestMain(m *testing.M) {
	if trial := os.Getenv(envChild); trial != "" {
		if err := runChild(trial, os.Getenv(envDB), os.Getenv(envReceiver)); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashPolicy retries quickly and often enough that a receiver which
// fails each callback once always gets it in the end.
var crashPolicy = delivery.RetryPolicy{
	Name: "crash test", ConnectTimeout: time.Second, AnswerTimeout: 2 * time.Second,
	Delays: []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond,
		160 * time.Millisecond, 320 * time.Millisecond, 640 * time.Millisecond, time.Second},
}

// callback returns a delivery to url whose body carries the id.
func callback(url, id string) *sandbox.Delivery {
	return &sandbox.Delivery{
		Product: "sumsub", Message: "applicantReviewed", Subject: id, URL: url,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   []byte(fmt.Sprintf(`{"id":%q}`, id)),
		Policy: crashPolicy,
	}
}

// countingReceiver counts the distinct callback ids it acknowledged. It
// fails the first request for every fourth id, so that retries are
// pending when the sandbox dies, and answers after up to 2 ms, so that
// deaths land inside attempts.
type countingReceiver struct {
	*httptest.Server
	mu    sync.Mutex
	seen  map[string]int // acknowledged, by id
	tries map[string]int
}

func newCountingReceiver(t *testing.T) *countingReceiver {
	rc := &countingReceiver{seen: map[string]int{}, tries: map[string]int{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ ID string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.ID == "" {
			http.Error(w, "no id", http.StatusBadRequest)
			return
		}
		// A receiver that takes its time (up to 2 ms).
		select {
		case <-time.After(time.Duration(rand.IntN(2000)) * time.Microsecond):
		case <-r.Context().Done():
			return
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.tries[body.ID]++
		if n, _ := strconv.Atoi(body.ID[strings.LastIndexByte(body.ID, '-')+1:]); n%4 == 0 && rc.tries[body.ID] == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		rc.seen[body.ID]++
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *countingReceiver) acknowledged() map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := make(map[string]int, len(rc.seen))
	for k, v := range rc.seen {
		out[k] = v
	}
	return out
}

// allDeliveries reads every delivery of the store.
func allDeliveries(t *testing.T, s sandbox.Store) []*sandbox.Delivery {
	t.Helper()
	var out []*sandbox.Delivery
	var after int64
	for {
		ds, err := s.Deliveries(context.Background(), sandbox.DeliveryFilter{AfterID: after, Limit: sandbox.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 0 {
			return out
		}
		out = append(out, ds...)
		after = ds[len(ds)-1].ID
	}
}

// drain runs an outbox that takes over the store until nothing is
// pending, for at most a minute, and checks that every delivery was
// delivered and acknowledged by the receiver.
func drain(t *testing.T, db *sqlite.DB, rc *countingReceiver, configure func(o *sandbox.Outbox)) {
	t.Helper()
	d := delivery.NewDispatcher(sandbox.NewFastClock(time.Now(), 1), nil)
	defer d.Close()
	o := &sandbox.Outbox{Store: db, Dispatcher: d, Clock: sandbox.NewFastClock(time.Now(), 1), TakeOver: true,
		Workers: 16, PollInterval: 10 * time.Millisecond}
	if configure != nil {
		configure(o)
	}
	if err := o.Open(); err != nil {
		t.Fatal(err)
	}
	defer o.Close(context.Background())
	var pending []*sandbox.Delivery
	var err error
	if !testpoll.Until(time.Minute, func() bool {
		pending, err = db.Deliveries(context.Background(), sandbox.DeliveryFilter{State: sandbox.Pending, Limit: 1})
		return err != nil || len(pending) == 0
	}) {
		t.Fatalf("delivery %d still pending after a minute: %+v", pending[0].ID, pending[0])
	}
	if err != nil {
		t.Fatal(err)
	}
	seen := rc.acknowledged()
	for _, d := range allDeliveries(t, db) {
		if d.State != sandbox.Delivered {
			t.Errorf("delivery %d (%s) ended %s: %+v", d.ID, d.Subject, d.State, d.History)
		}
		if seen[d.Subject] == 0 {
			t.Errorf("delivery %d (%s) is %s but the receiver never acknowledged it", d.ID, d.Subject, d.State)
		}
	}
}

// TestCrashImageRecovers takes the files of a database as a crash would
// leave them (copied while the store is open, in the middle of its work:
// deliveries claimed and never finished, retries scheduled, the WAL not
// checkpointed), opens the copy as a restarted sandbox would, and checks
// that every callback is delivered, both when the new outbox takes over
// the dead one's claims and when it waits for their leases to run out.
func TestCrashImageRecovers(t *testing.T) {
	ctx := context.Background()
	rc := newCountingReceiver(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "sandbox.db")
	db := openDB(t, path)
	const n = 60
	var ds []*sandbox.Delivery
	for i := range n {
		ds = append(ds, callback(rc.URL, fmt.Sprintf("img-%d", i)))
	}
	if err := db.CreateVerification(ctx, sandboxtest.NewVerification("wx-1"), ds[:10]...); err != nil {
		t.Fatal(err)
	}
	if err := db.Enqueue(ctx, ds[10:]...); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claimed, err := db.Claim(ctx, sandbox.Claim{Due: now, Now: now, Until: now.Add(sandbox.DefaultLease), Limit: 30})
	if err != nil || len(claimed) != 30 {
		t.Fatalf("claim: %d, %v", len(claimed), err)
	}
	// The dead outbox got a 503 for some (recorded, retry scheduled)
	// and a 200 for others it never recorded (so they are sent twice).
	for _, d := range claimed[:10] {
		a := sandbox.Attempt{DeliveryID: d.ID, Cycle: 1, Number: 1, Time: now, Status: 503}
		if err := db.Record(ctx, d.Outcome(a, now)); err != nil {
			t.Fatal(err)
		}
	}

	image := func(name string) string {
		t.Helper()
		to := filepath.Join(dir, name)
		for _, suffix := range []string{"", "-wal", "-shm"} {
			b, err := os.ReadFile(path + suffix)
			if err != nil {
				t.Fatal(err)
			}
			if suffix == "-wal" && len(b) == 0 {
				t.Fatal("the WAL is empty: the image would not test recovery from it")
			}
			if err := os.WriteFile(to+suffix, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return to
	}
	takeOver, waitLease := image("takeover.db"), image("lease.db")

	t.Run("TakeOver", func(t *testing.T) {
		db := openDB(t, takeOver)
		if got := len(allDeliveries(t, db)); got != n {
			t.Fatalf("%d deliveries after the crash, want %d", got, n)
		}
		drain(t, db, rc, nil)
	})
	t.Run("LeaseRunsOut", func(t *testing.T) {
		db := openDB(t, waitLease)
		// A wall clock past the dead outbox's leases.
		drain(t, db, rc, func(o *sandbox.Outbox) {
			o.TakeOver = false
			o.WallClock = func() time.Time { return time.Now().Add(time.Hour) }
		})
	})
}

// TestSIGKILL runs an outbox with a producer in a child process against a
// database file and a receiver here, kills it with SIGKILL at a random
// moment, over and over, checking after each death that the database is
// sound and holds every callback the child had committed; then a last run
// delivers everything, and the receiver has acknowledged every callback
// at least once.
func TestSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	const trials = 24
	start := time.Now()
	rc := newCountingReceiver(t)
	path := filepath.Join(t.TempDir(), "sandbox.db")
	db := openDB(t, path) // makes the schema; closed before the children run
	db.Close()

	committed := map[string]bool{}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 12))
	for trial := range trials {
		var out lockedBuffer
		var errOut bytes.Buffer
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envChild+"="+strconv.Itoa(trial), envDB+"="+path, envReceiver+"="+rc.URL)
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// One trial in four dies up to 400 ms after its start, maybe
		// before it has opened the database; the others up to 400 ms
		// after their first commit (a child starts slowly on a loaded
		// machine), while they enqueue and deliver.
		if trial%4 != 0 && !testpoll.Until(30*time.Second, func() bool { return strings.Contains(out.String(), "acked ") }) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("trial %d: the child committed nothing within 30s: %s", trial, errOut.String())
		}
		<-time.After(time.Duration(rng.IntN(400)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("trial %d: the child ended by itself before it was killed (%v): %s", trial, err, errOut.String())
		}
		ids := acked(out.String())
		for _, id := range ids {
			committed[id] = true
		}

		// The database is sound and holds everything committed.
		raw, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		var integrity string
		if err := raw.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
			t.Fatalf("trial %d: integrity_check = %q, %v", trial, integrity, err)
		}
		raw.Close()
		db := sqlite.NewDB(path)
		if err := db.Open(context.Background()); err != nil {
			t.Fatalf("trial %d: reopen: %v", trial, err)
		}
		stored := map[string]bool{}
		for _, d := range allDeliveries(t, db) {
			stored[d.Subject] = true
		}
		db.Close()
		for id := range committed {
			if !stored[id] {
				t.Fatalf("trial %d: callback %s was committed but is not in the database", trial, id)
			}
		}
		t.Logf("trial %d: killed after %d new callbacks committed; %d stored", trial, len(ids), len(stored))
	}

	db = openDB(t, path)
	drain(t, db, rc, nil)
	all := allDeliveries(t, db)
	seen := rc.acknowledged()
	twice := 0
	for _, n := range seen {
		if n > 1 {
			twice++
		}
	}
	if len(committed) == 0 {
		t.Error("no child committed anything: the trials tested nothing")
	}
	t.Logf("%d trials in %v: %d callbacks stored (%d reported committed by the children), all delivered; %d acknowledged more than once",
		trials, time.Since(start).Round(time.Millisecond), len(all), len(committed), twice)
}

// runChild is the child process of TestSIGKILL: an outbox that takes
// over the database and a producer that enqueues callbacks in batches,
// printing "acked ID..." after each commit, until it is killed.
func runChild(trial, path, receiver string) error {
	ctx := context.Background()
	db := sqlite.NewDB(path)
	if err := db.Open(ctx); err != nil {
		return err
	}
	d := delivery.NewDispatcher(sandbox.NewFastClock(time.Now(), 1), nil)
	clock := sandbox.NewFastClock(time.Now(), 1)
	o := &sandbox.Outbox{Store: db, Dispatcher: d, Clock: clock, TakeOver: true, Workers: 8, PollInterval: 10 * time.Millisecond}
	if err := o.Open(); err != nil {
		return err
	}
	w := bufio.NewWriter(os.Stdout)
	// A batch every 2 ms, so that the parent's kill lands at any stage.
	pace := time.NewTicker(2 * time.Millisecond)
	defer pace.Stop()
	for batch := 0; batch < 60; batch++ {
		var ds []*sandbox.Delivery
		var ids []string
		for j := range 5 {
			id := fmt.Sprintf("t%s-b%d-%d", trial, batch, j)
			ds = append(ds, callback(receiver, id))
			ids = append(ids, id)
		}
		if err := db.Enqueue(ctx, ds...); err != nil {
			return err
		}
		fmt.Fprintln(w, "acked", strings.Join(ids, " "))
		if err := w.Flush(); err != nil {
			return err
		}
		o.Wake()
		<-pace.C
	}
	select {} // deliver until killed
}

// acked reads the ids of the complete "acked" lines a child printed.
func acked(out string) []string {
	var ids []string
	for _, line := range strings.SplitAfter(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "acked "); ok && strings.HasSuffix(rest, "\n") {
			ids = append(ids, strings.Fields(rest)...)
		}
	}
	return ids
}

// lockedBuffer is a buffer a child's output is copied into.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var _ io.Writer = (*lockedBuffer)(nil)
