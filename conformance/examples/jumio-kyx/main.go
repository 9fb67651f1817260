// Command jumiokyx is a Jumio KYX callback receiver to copy (standard
// library only), certified by kycsim's conformance suite in main_test.go:
//
//	go run . # POST http://127.0.0.1:9000/webhooks/jumio
package main

import (
	"cmp"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"
)

// maxBody caps a callback body: Jumio's are well under a kilobyte.
const maxBody = 1 << 20

// jumioSources are the addresses Jumio sends callbacks from (AMER, EMEA,
// APAC; see "Callback" in Jumio's documentation). A KYX callback carries
// no signature: its source address is its only proof.
const jumioSources = "34.202.241.227,34.226.103.119,34.226.254.127,52.8.136.236,54.177.61.57,54.183.15.212," +
	"34.253.41.236,35.157.27.193,52.48.0.25,52.57.194.92,52.58.113.86,52.209.180.134," +
	"3.0.109.121,52.76.184.73,52.77.102.92,13.238.100.17,13.238.203.238,52.64.132.26"

func main() {
	rc, err := newReceiver(strings.Split(cmp.Or(os.Getenv("JUMIO_SOURCES"), jumioSources), ","))
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe(cmp.Or(os.Getenv("ADDR"), "127.0.0.1:9000"), rc))
}

// callback holds the fields used; Jumio sends more, and adds new ones.
type callback struct {
	CallbackSentAt    string `json:"callbackSentAt"` // RFC 3339; fresh on every redelivery
	WorkflowExecution struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		// Href is where the result is: fetch it there with your API
		// token once the status is PROCESSED (not done here).
		Href string `json:"href"`
	} `json:"workflowExecution"`
}

// stage orders the statuses: a final one (3) is never replaced by an
// earlier stage arriving late.
var stage = map[string]int{"ACQUISITION_STARTED": 1, "ACQUIRED": 2, "PROCESSED": 3, "SESSION_EXPIRED": 3, "TOKEN_EXPIRED": 3}

// workflow is what the receiver holds about one workflow execution.
type workflow struct {
	events int
	status string
	at     time.Time // callbackSentAt of the status held
}

// receiver serves the callbacks and the probe. Its state stands for your
// database: make (workflow id, status) a unique index and insert-or-ignore,
// so that two copies of a callback racing each other are acted on once.
type receiver struct {
	http.ServeMux
	sources   map[netip.Addr]bool
	mu        sync.Mutex
	seen      map[string]bool
	workflows map[string]*workflow
}

func newReceiver(sources []string) (*receiver, error) {
	rc := &receiver{sources: map[netip.Addr]bool{}, seen: map[string]bool{}, workflows: map[string]*workflow{}}
	for _, s := range sources {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		rc.sources[a] = true
	}
	rc.HandleFunc("POST /webhooks/jumio", rc.callback)
	rc.HandleFunc("GET /_probe/{subject}", rc.probe)
	return rc, nil
}

// act acts on a workflow's status once (a redelivery carries a fresh
// callbackSentAt: dedupe on id and status, never on the timestamp).
func (rc *receiver) act(c callback, at time.Time) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	id, status := c.WorkflowExecution.ID, c.WorkflowExecution.Status
	if rc.seen[id+"|"+status] {
		return // a redelivery: already acted on
	}
	rc.seen[id+"|"+status] = true
	if rc.workflows[id] == nil {
		rc.workflows[id] = &workflow{}
	}
	wf := rc.workflows[id]
	wf.events++
	if s, held := stage[status], stage[wf.status]; s > held || (s == held && !at.Before(wf.at)) {
		wf.status, wf.at = status, at
	}
}

// callback answers 403 to a sender outside the allowlist (the peer
// address: X-Forwarded-For is anyone's to forge), 400 to content it
// cannot use (never 5xx: Jumio would retry it in vain), 200 to the rest.
func (rc *receiver) callback(w http.ResponseWriter, r *http.Request) {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || !rc.sources[peer.Addr().Unmap()] {
		http.Error(w, "not a Jumio callback address", http.StatusForbidden)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "unreadable or too large body", http.StatusBadRequest)
		return
	}
	var c callback
	if err := json.Unmarshal(body, &c); err != nil || c.WorkflowExecution.ID == "" || stage[c.WorkflowExecution.Status] == 0 {
		http.Error(w, "not a KYX callback with a documented status", http.StatusBadRequest)
		return
	}
	at, _ := time.Parse(time.RFC3339, c.CallbackSentAt) // unreadable: the oldest
	rc.act(c, at)
	w.WriteHeader(http.StatusOK)
}

// probe answers GET /_probe/{subject}: what the receiver did for a
// workflow, for kycsim's conformance suite (a test-only endpoint).
func (rc *receiver) probe(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string]any{"events": 0, "status": nil}
	if wf := rc.workflows[r.PathValue("subject")]; wf != nil {
		out["events"], out["status"] = wf.events, wf.status
	}
	json.NewEncoder(w).Encode(out)
}
