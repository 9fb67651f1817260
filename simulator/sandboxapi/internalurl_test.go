package sandboxapi_test

import (
	"testing"

	"github.com/kycsim/kycsim/simulator/sandboxapi"
)

// TestInternalURL checks the split a container network needs: web.href
// points at the public URL people's browsers open, and the hrefs inside
// callbacks at the internal URL the receiver fetches from.
func TestInternalURL(t *testing.T) {
	const internal = "http://sandbox:8089"
	sink := newSink(t)
	_, base := startSandbox(t, sink, func(o *sandboxapi.Options) { o.InternalURL = internal + "/" })
	tok := jumioToken(t, base)
	acc := createAccount(t, base, tok, map[string]any{"customerInternalReference": "order-internal", "workflowDefinition": map[string]any{"key": 10013}, "callbackUrl": sink.srv.URL + "/jumio"})
	we := acc["workflowExecution"].(map[string]any)["id"].(string)
	accountID := acc["account"].(map[string]any)["id"].(string)
	if href := acc["web"].(map[string]any)["href"].(string); href != base+"/web/"+we {
		t.Errorf("web.href = %s, want the public URL %s/web/%s", href, base, we)
	}
	if code, out := call(t, newRequest(t, "POST", base+"/_sandbox/jumio/workflow-executions/"+we+"/outcome", map[string]any{"outcome": "PASSED"})); code != 202 {
		t.Fatalf("outcome: %d %v", code, out)
	}
	got := sink.wait(t, "PROCESSED", func(cs []gotCallback) bool { return anyHas(cs, `"PROCESSED"`) })
	last, _ := find(got, `"PROCESSED"`)
	if !has(last, `"`+internal+"/api/v1/accounts/"+accountID+"/workflow-executions/"+we+`"`) || has(last, base) {
		t.Errorf("the PROCESSED callback's href is not on the internal URL %s: %s", internal, last.Body)
	}
}
