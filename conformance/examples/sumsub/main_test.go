package main

import (
	"testing"

	"github.com/kycsim/kycsim/conformance/kycsimtest"
)

// TestConforms certifies the receiver with kycsim's conformance suite,
// the same cases `kycsim conform --product sumsub` plays.
func TestConforms(t *testing.T) {
	kycsimtest.Conform(t, newReceiver("s3cr3t"),
		kycsimtest.Sumsub{Path: "/webhooks/sumsub", Secret: "s3cr3t", Handles: []string{"applicantPending", "applicantOnHold", "applicantReviewed"}},
		kycsimtest.WithProbePath("/_probe/{subject}"), kycsimtest.WithContentPolicy("reject"))
}
