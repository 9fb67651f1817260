// Command netverify is a Jumio Netverify callback receiver to copy
// (standard library only), certified by kycsim's conformance suite in
// main_test.go:
//
//	go run . # POST http://127.0.0.1:9000/webhooks/netverify
package main

import (
	"cmp"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// maxBody caps a callback body: Netverify's are a few kilobytes.
const maxBody = 1 << 20

// jumioSources are the addresses Jumio sends callbacks from (AMER, EMEA,
// APAC; see "Callback" in Jumio's documentation). A Netverify callback
// carries no signature: its source address is its only proof.
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

// statuses are the documented values of verificationStatus.
var statuses = map[string]bool{"APPROVED_VERIFIED": true, "DENIED_FRAUD": true, "DENIED_UNSUPPORTED_ID_TYPE": true,
	"DENIED_UNSUPPORTED_ID_COUNTRY": true, "ERROR_NOT_READABLE_ID": true, "NO_ID_UPLOADED": true}

// callback holds the form fields used; Jumio sends many more (the
// document's data, image links), and adds new ones.
type callback struct {
	scanReference     string    // jumioIdScanReference: Jumio's id of the scan
	merchantReference string    // merchantIdScanReference: your own, to find your user
	status            string    // verificationStatus
	at                time.Time // callbackDate; fresh on every redelivery
}

// scan is what the receiver holds about one scan.
type scan struct {
	events            int
	merchantReference string
	status            string
	at                time.Time // callbackDate of the status held
}

// receiver serves the callbacks and the probe. Its state stands for your
// database: make (scan reference, status) a unique index and
// insert-or-ignore, so that two copies of a callback racing each other
// are acted on once.
type receiver struct {
	http.ServeMux
	sources map[netip.Addr]bool
	mu      sync.Mutex
	seen    map[string]bool
	scans   map[string]*scan
}

func newReceiver(sources []string) (*receiver, error) {
	rc := &receiver{sources: map[netip.Addr]bool{}, seen: map[string]bool{}, scans: map[string]*scan{}}
	for _, s := range sources {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		rc.sources[a] = true
	}
	rc.HandleFunc("POST /webhooks/netverify", rc.callback)
	rc.HandleFunc("GET /_probe/{subject}", rc.probe)
	return rc, nil
}

// act acts on a scan's status once (a redelivery carries a fresh
// callbackDate: dedupe on reference and status, never on the date); a
// late older callback counts but does not replace the newer status.
func (rc *receiver) act(c callback) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.seen[c.scanReference+"|"+c.status] {
		return // a redelivery: already acted on
	}
	rc.seen[c.scanReference+"|"+c.status] = true
	if rc.scans[c.scanReference] == nil {
		rc.scans[c.scanReference] = &scan{merchantReference: c.merchantReference}
	}
	s := rc.scans[c.scanReference]
	s.events++
	if !c.at.Before(s.at) {
		s.status, s.at = c.status, c.at
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
	form, err := url.ParseQuery(string(body))
	c := callback{scanReference: form.Get("jumioIdScanReference"), merchantReference: form.Get("merchantIdScanReference"),
		status: form.Get("verificationStatus")}
	if err != nil || c.scanReference == "" || !statuses[c.status] {
		http.Error(w, "not a Netverify callback with a documented status", http.StatusBadRequest)
		return
	}
	c.at, _ = time.Parse(time.RFC3339, form.Get("callbackDate")) // unreadable: the oldest
	rc.act(c)
	w.WriteHeader(http.StatusOK)
}

// probe answers GET /_probe/{subject}: what the receiver did for a scan,
// for kycsim's conformance suite (a test-only endpoint).
func (rc *receiver) probe(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string]any{"events": 0, "status": nil}
	if s := rc.scans[r.PathValue("subject")]; s != nil {
		out["events"], out["status"] = s.events, s.status
	}
	json.NewEncoder(w).Encode(out)
}
