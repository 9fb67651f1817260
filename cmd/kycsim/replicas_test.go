package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kycsim/kycsim/internal/pgtest"
	"github.com/kycsim/kycsim/internal/testpoll"
)

// replica is one `kycsim serve` child process on the shared database.
type replica struct {
	name, addr string
	args       []byte
	mu         sync.Mutex
	cmd        *exec.Cmd
}

// start runs the replica and waits until it answers.
func (r *replica) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveChildEnv+"="+string(r.args))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var err error
	if !testpoll.Until(30*time.Second, func() bool {
		var resp *http.Response
		if resp, err = http.Get("http://" + r.addr + "/healthz"); err == nil {
			resp.Body.Close()
		}
		return err == nil
	}) {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("replica %s did not start: %v", r.name, err)
	}
	r.mu.Lock()
	r.cmd = cmd
	r.mu.Unlock()
}

// kill SIGKILLs the replica and reaps it.
func (r *replica) kill() {
	r.mu.Lock()
	cmd := r.cmd
	r.cmd = nil
	r.mu.Unlock()
	if cmd != nil {
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
}

// stop ends the replica with SIGTERM, as an orchestrator would.
func (r *replica) stop() {
	r.mu.Lock()
	cmd := r.cmd
	r.cmd = nil
	r.mu.Unlock()
	if cmd != nil {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
}

// TestReplicasSurviveSIGKILL runs three sandbox replicas on one
// PostgreSQL database and SIGKILLs a random one 50 times (restarting it
// each time) while applicants are created on random replicas and the
// receiver refuses the first attempt at every callback; then it checks
// that every callback of every creation that was acknowledged arrives.
// The killed replicas' claims come back to the others when their leases
// (2 s here) run out.
func TestReplicasSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three replicas and kills them 50 times")
	}
	db := pgtest.URL(t)
	sink := &crashSink{seen: map[[32]byte]int{}, got: map[string]bool{}}
	recv := httptest.NewServer(sink)
	defer recv.Close()
	const n, kills = 3, 50
	reps := make([]*replica, n)
	for i := range reps {
		r := &replica{name: fmt.Sprintf("r%d", i), addr: freeAddr(t)}
		r.args, _ = json.Marshal([]string{"serve", "--addr", r.addr, "--db", db, "--time-scale", "0.00001",
			"--replica", r.name, "--lease", "2s",
			"--webhook", "sumsub=" + recv.URL + "/sumsub", "--webhook-secret", "s3cr3t"})
		reps[i] = r
		r.start(t)
	}
	defer func() {
		for _, r := range reps {
			r.stop()
		}
	}()

	// The app: creates applicants on random replicas until the kills end;
	// a creation that got its 201 must have all its callbacks delivered.
	var mu sync.Mutex
	var expected []string
	var stopApp atomic.Bool
	var created, refused atomic.Int64
	appDone := make(chan struct{})
	go func() {
		defer close(appDone)
		client := &http.Client{Timeout: 2 * time.Second}
		rng := rand.New(rand.NewPCG(3, 4))
		for i := 0; !stopApp.Load(); i++ {
			r := reps[rng.IntN(n)]
			body := fmt.Sprintf(`{"externalUserId":"crash-%d-green"}`, i)
			req, _ := http.NewRequest("POST", "http://"+r.addr+"/resources/applicants?levelName=basic", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			signSumsub(req, []byte(body))
			resp, err := client.Do(req)
			if err != nil {
				refused.Add(1) // that replica is down: the app tries another
				continue
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 201 {
				refused.Add(1)
				continue
			}
			var app struct{ ID string }
			json.Unmarshal(b, &app)
			created.Add(1)
			mu.Lock()
			for _, msg := range []string{"applicantCreated", "applicantPending", "applicantPrechecked", "applicantReviewed"} {
				expected = append(expected, app.ID+"/"+msg)
			}
			mu.Unlock()
		}
	}()

	start := time.Now()
	rng := rand.New(rand.NewPCG(5, 6))
	for range kills {
		// Let work pile up between kills: one to three more creations
		// acknowledged (or 5 s, when a replica down refuses them all).
		more := created.Load() + 1 + int64(rng.IntN(3))
		testpoll.Until(5*time.Second, func() bool { return created.Load() >= more })
		r := reps[rng.IntN(n)]
		r.kill()
		r.start(t)
	}
	stopApp.Store(true)
	<-appDone
	t.Logf("%d kills in %v: %d applicants created, %d creations refused while a replica was down",
		kills, time.Since(start).Round(time.Millisecond), created.Load(), refused.Load())
	if created.Load() == 0 {
		t.Fatal("no applicant was created: the test tested nothing")
	}

	drain := time.Now()
	var missing []string
	if !testpoll.Until(90*time.Second, func() bool {
		missing = missing[:0]
		mu.Lock()
		defer mu.Unlock()
		for _, k := range expected {
			if !sink.has(k) {
				missing = append(missing, k)
			}
		}
		return len(missing) == 0
	}) {
		t.Fatalf("%d of %d callbacks never arrived, e.g. %s", len(missing), len(expected), strings.Join(missing[:min(5, len(missing))], ", "))
	}
	// The deliveries view of any replica shows the work of all.
	resp, err := http.Get("http://" + reps[0].addr + "/_sandbox/deliveries?state=delivered&limit=1000")
	if err != nil {
		t.Fatal(err)
	}
	var view struct {
		Deliveries []struct {
			Attempts []struct{ Replica string }
		}
	}
	json.NewDecoder(resp.Body).Decode(&view)
	resp.Body.Close()
	by := map[string]int{}
	for _, d := range view.Deliveries {
		for _, a := range d.Attempts {
			by[a.Replica]++
		}
	}
	if len(by) < 2 {
		t.Errorf("the deliveries view of replica r0 shows attempts by %v: want several replicas'", by)
	}
	t.Logf("all %d callbacks arrived, the last %v after the last kill; attempts by replica (first 1000 deliveries): %v",
		len(expected), time.Since(drain).Round(time.Millisecond), by)
}
