package kycsimtest_test

import (
	"fmt"
	"log"
	"net/http/httptest"
	"testing"

	"github.com/kycsim/kycsim/conformance/kycsimtest"
	"github.com/kycsim/kycsim/conformance/receiver"
)

// logTB is a kycsimtest.TB outside a test: it stops the program on a
// failure.
type logTB struct{}

func (logTB) Helper()                           {}
func (logTB) Fatalf(format string, args ...any) { log.Fatalf(format, args...) }

// ExampleSend delivers one signed Sumsub webhook to a receiver and reads
// its answer.
func ExampleSend() {
	rc, err := receiver.New(receiver.Config{Secret: "s3cr3t"})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	a := kycsimtest.Send(logTB{}, srv.URL+"/sumsub", "sumsub", "applicantReviewed",
		kycsimtest.WithSecret("s3cr3t"), kycsimtest.WithSet("reviewResult.reviewAnswer", "RED"))
	events, status, _ := rc.Probe(a.Subject)
	fmt.Println(a.Status, events, status)
	// Output: 200 1 completed/RED
}

// ExampleConform is the whole certification of a Sumsub receiver that
// acts on applicantReviewed only, as a test of the integrator's own.
func ExampleConform() {
	// In your receiver's package:
	_ = func(t *testing.T) {
		rc, err := receiver.New(receiver.Config{Secret: "s3cr3t"}) // your handler here
		if err != nil {
			t.Fatal(err)
		}
		kycsimtest.Conform(t, rc,
			kycsimtest.Sumsub{Path: "/sumsub", Secret: "s3cr3t", Handles: []string{"applicantReviewed"}},
			kycsimtest.WithProber(kycsimtest.ProberFunc(rc.Probe)))
	}
}
