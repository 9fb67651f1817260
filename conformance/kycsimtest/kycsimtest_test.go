package kycsimtest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kycsim/kycsim/conformance/kycsimtest"
	"github.com/kycsim/kycsim/conformance/receiver"
)

// newReceiver returns the reference receiver with the given defects.
func newReceiver(t *testing.T, defects ...receiver.Defect) *receiver.Receiver {
	t.Helper()
	rc, err := receiver.New(receiver.Config{Secret: "s3cr3t", Defects: defects, Fetch: false})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rc.Close(ctx)
	})
	return rc
}

// TestConformReferenceReceiver certifies the reference receiver (which
// implements Prober) for Sumsub and Jumio KYX.
func TestConformReferenceReceiver(t *testing.T) {
	rc := newReceiver(t)
	kycsimtest.Conform(t, rc,
		kycsimtest.Sumsub{Path: receiver.Paths["sumsub"], Secret: "s3cr3t"},
		kycsimtest.JumioKYX{Path: receiver.Paths["jumio-kyx"]})
}

// TestConformWithHandlesAndProberFunc certifies a receiver that acts on
// applicantReviewed only, observed through a ProberFunc.
func TestConformWithHandlesAndProberFunc(t *testing.T) {
	rc, err := receiver.New(receiver.Config{Secret: "s3cr3t", Handles: map[string][]string{"sumsub": {"applicantReviewed"}}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/hooks/sumsub", http.StripPrefix("/hooks", rc)) // a handler that is no Prober itself
	kycsimtest.Conform(t, mux, kycsimtest.Sumsub{Path: "/hooks/sumsub", Secret: "s3cr3t", Handles: []string{"applicantReviewed"}},
		kycsimtest.WithProber(kycsimtest.ProberFunc(rc.Probe)))
}

// TestConformCatchesADefect runs the suite against a receiver that does
// not deduplicate, in a test of its own whose failures are inspected
// rather than reported.
func TestConformCatchesADefect(t *testing.T) {
	rc := newReceiver(t, receiver.DefectNoDedup)
	failed := runAndCollect(t, rc, kycsimtest.Sumsub{Path: receiver.Paths["sumsub"], Secret: "s3cr3t"}, kycsimtest.Only("sumsub.dedup.*", "sumsub.accept.message.applicant-reviewed"))
	if os.Getenv("KYCSIMTEST_CHILD") != "" {
		return
	}
	want := []string{"sumsub.dedup.concurrent", "sumsub.dedup.first-arrival-race", "sumsub.dedup.identical"}
	if strings.Join(failed, " ") != strings.Join(want, " ") {
		t.Errorf("failed subtests %v, want %v", failed, want)
	}
}

// TestSend delivers one signed webhook and one tampered with.
func TestSend(t *testing.T) {
	rc := newReceiver(t)
	srv := httptest.NewServer(rc)
	defer srv.Close()
	a := kycsimtest.Send(t, srv.URL+"/sumsub", "sumsub", "applicantReviewed", kycsimtest.WithSecret("s3cr3t"),
		kycsimtest.WithSet("reviewResult.reviewAnswer", "RED"), kycsimtest.WithAlgorithm("HMAC_SHA512_HEX"))
	if a.Status != http.StatusOK {
		t.Fatalf("status %d %s", a.Status, a.Body)
	}
	if _, status, _ := rc.Probe(a.Subject); status != "completed/RED" {
		t.Errorf("status %q after a RED review", status)
	}
	if a := kycsimtest.Send(t, srv.URL+"/sumsub", "sumsub", "applicantReviewed", kycsimtest.WithSecret("wrong")); a.Status != http.StatusUnauthorized {
		t.Errorf("a webhook signed with another secret: %d", a.Status)
	}
	if a := kycsimtest.Send(t, srv.URL+"/jumio/kyx", "jumio-kyx", "PROCESSED", kycsimtest.WithUnset("workflowExecution.id")); a.Status/100 == 5 {
		t.Errorf("unusable KYX callback: %d", a.Status)
	}
}
