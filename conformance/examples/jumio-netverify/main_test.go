package main

import (
	"testing"

	"github.com/kycsim/kycsim/conformance/kycsimtest"
)

// TestConforms certifies the receiver with kycsim's conformance suite,
// the same cases `kycsim conform --product jumio-netverify` plays. The suite
// sends from 127.0.0.1, and its forged callbacks from 127.0.0.2.
func TestConforms(t *testing.T) {
	rc, err := newReceiver([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	kycsimtest.Conform(t, rc, kycsimtest.JumioNetverify{Path: "/webhooks/netverify"},
		kycsimtest.WithProbePath("/_probe/{subject}"), kycsimtest.WithContentPolicy("reject"))
}
