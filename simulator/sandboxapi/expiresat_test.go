package sandboxapi_test

import (
	"testing"
	"time"
)

// TestControlVerificationExpiresAt checks the control API shows when a
// verification expires while it can, and null (never the zero time
// 0001-01-01T00:00:00Z) once an outcome ended it.
func TestControlVerificationExpiresAt(t *testing.T) {
	sink := newSink(t)
	_, base := startSandbox(t, sink, nil)
	acc := createAccount(t, base, jumioToken(t, base), map[string]any{"customerInternalReference": "order-exp", "workflowDefinition": map[string]any{"key": 10013}, "callbackUrl": sink.srv.URL + "/jumio"})
	we := acc["workflowExecution"].(map[string]any)["id"].(string)
	_, v := call(t, newRequest(t, "GET", base+"/_sandbox/verifications/"+we, nil))
	if s, _ := v["expiresAt"].(string); s == "" || s == (time.Time{}).Format(time.RFC3339) {
		t.Errorf("a pending verification: expiresAt %v, want when it expires", v["expiresAt"])
	}
	if code, out := call(t, newRequest(t, "POST", base+"/_sandbox/jumio/workflow-executions/"+we+"/outcome", map[string]any{"outcome": "PASSED"})); code != 202 {
		t.Fatalf("outcome: %d %v", code, out)
	}
	_, v = call(t, newRequest(t, "GET", base+"/_sandbox/verifications/"+we, nil))
	if e, ok := v["expiresAt"]; !ok || e != nil {
		t.Errorf("an ended verification: expiresAt %v (present %v), want null", e, ok)
	}
}
