package sandboxapi_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kycsim/kycsim/internal/pgtest"
	"github.com/kycsim/kycsim/internal/testpoll"
	"github.com/kycsim/kycsim/simulator/sandbox"
	"github.com/kycsim/kycsim/simulator/sandboxapi"
)

// TestReplicasShareOneDatabase runs two sandbox replicas on one
// PostgreSQL database: a verification created on one has its outcome
// picked on the other, is retrieved and its page shown by either, its
// callbacks are each delivered once, the deliveries view of either shows
// which replica made each attempt, and their sandbox clocks keep to the
// same high-water mark.
func TestReplicasShareOneDatabase(t *testing.T) {
	db := pgtest.URL(t)
	sink := newSink(t)
	replica := func(name string) func(*sandboxapi.Options) {
		return func(o *sandboxapi.Options) {
			o.DB, o.Replica, o.ClockSyncInterval, o.Lease = db, name, 10*time.Millisecond, 2*time.Second
			o.ControlToken = "ctl"
		}
	}
	a, baseA := startSandbox(t, sink, replica("a"))
	b, baseB := startSandbox(t, sink, replica("b"))
	if !a.Shared || !b.Shared {
		t.Fatal("replicas on PostgreSQL do not say they share it")
	}

	// A clock that jumps ahead (a replica restarted on a later database)
	// takes the other with it.
	mark := a.Clock.Now().Add(1000 * time.Hour)
	a.Clock.AdvanceTo(mark)
	if !testpoll.Until(5*time.Second, func() bool { return !b.Clock.Now().Before(mark) }) {
		t.Fatalf("replica b's clock reads %v; replica a's passed %v", b.Clock.Now(), mark)
	}

	tok := jumioToken(t, baseA)
	acc := createAccount(t, baseA, tok, map[string]any{"customerInternalReference": "rep-1", "tokenLifetime": "60d", "workflowDefinition": map[string]any{"key": 1}, "callbackUrl": sink.srv.URL + "/jumio"})
	we := acc["workflowExecution"].(map[string]any)["id"].(string)
	accountID := acc["account"].(map[string]any)["id"].(string)
	href := acc["web"].(map[string]any)["href"].(string)

	req := newRequest(t, "POST", baseB+"/_sandbox/jumio/workflow-executions/"+we+"/outcome", map[string]any{"outcome": "PASSED"})
	req.Header.Set("Authorization", "Bearer ctl")
	if code, out := call(t, req); code != 202 {
		t.Fatalf("outcome on replica b: %d %v", code, out)
	}
	count := func(cs []gotCallback) int {
		n := 0
		for _, c := range cs {
			if has(c, we) {
				n++
			}
		}
		return n
	}
	sink.wait(t, "the 3 callbacks", func(cs []gotCallback) bool { return count(cs) >= 3 })
	// Each once: nothing more arrives while the deliveries are recorded.
	if !testpoll.Until(5*time.Second, func() bool {
		ds, _ := b.DB.Deliveries(context.Background(), sandbox.DeliveryFilter{VerificationID: we, State: sandbox.Delivered})
		return len(ds) == 3
	}) {
		t.Fatal("the 3 deliveries are not all recorded as delivered")
	}
	if n := count(sink.wait(t, "callbacks", func([]gotCallback) bool { return true })); n != 3 {
		t.Errorf("%d callbacks of %s arrived, want 3 (ACQUISITION_STARTED, ACQUIRED, PROCESSED), each once", n, we)
	}

	// Retrieval on a (which did not pick the outcome) answers the outcome.
	req = newRequest(t, "GET", baseA+"/api/v1/accounts/"+accountID+"/workflow-executions/"+we, nil)
	req.Header.Set("Authorization", "Bearer "+jumioToken(t, baseB)) // a's token may have expired on the fast clock; b's works on a
	req.Header.Set("User-Agent", testUA)
	if code, det := call(t, req); code != 200 || det["workflow"].(map[string]any)["status"] != "PROCESSED" || det["decision"].(map[string]any)["type"] != "PASSED" {
		t.Errorf("retrieval on replica a: %d %v", code, det)
	}
	// The page link a handed out opens on b, without the control token.
	resp, err := http.Get(strings.Replace(href, baseA, baseB, 1))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "PASSED") {
		t.Errorf("page on replica b: %d %.300s", resp.StatusCode, page)
	}

	// The deliveries view on either shows every delivery and who sent it.
	req = newRequest(t, "GET", baseA+"/_sandbox/deliveries?verification="+we, nil)
	req.Header.Set("Authorization", "Bearer ctl")
	code, view := call(t, req)
	ds, _ := view["deliveries"].([]any)
	if code != 200 || len(ds) != 3 {
		t.Fatalf("deliveries view on replica a: %d, %d deliveries: %v", code, len(ds), view)
	}
	for _, d := range ds {
		d := d.(map[string]any)
		atts := d["attempts"].([]any)
		if d["state"] != "delivered" || len(atts) != 1 {
			t.Errorf("delivery %v: %s with %d attempts, want delivered at the first", d["id"], d["state"], len(atts))
			continue
		}
		if r := atts[0].(map[string]any)["replica"]; r != "a" && r != "b" {
			t.Errorf("delivery %v: attempt by replica %v, want a or b", d["id"], r)
		}
	}
}
