package receiver

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"net/http"
	"testing"
	"time"
)

// TestDefects checks that each defect changes the receiver's behaviour in
// the way it is named for, and that the clean receiver behaves correctly
// on the same input.
func TestDefects(t *testing.T) {
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	signed := func(body []byte, alg string) http.Header {
		h := jsonCT.Clone()
		fn := sha256.New
		if alg == "HMAC_SHA1_HEX" {
			fn = sha1.New
		}
		h.Set("X-Payload-Digest", hexHMAC(fn, secret, body))
		h.Set("X-Payload-Digest-Alg", alg)
		return h
	}
	pending := func(ms string, extra map[string]any) []byte {
		return sumsubBody(t, "applicantPending", "2020-02-21 13:23:19."+ms, extra)
	}
	type step struct {
		path, from string
		header     http.Header
		body       []byte
	}
	sumsubStep := func(body []byte, h http.Header) step { return step{"/sumsub", "", h, body} }
	kyxStep := func(status, sentAt string) step {
		return step{"/jumio/kyx", "127.0.0.1", jsonCT, kyxBody(kyxID, status, sentAt, "http://127.0.0.1:1/")}
	}
	spaced := []byte("{\"applicantId\": \"5cb744200a975a67ed1798a4\", \"inspectionId\": \"i\", \"correlationId\": \"c\", \"levelName\": \"l\", \"type\": \"applicantPending\", \"reviewStatus\": \"pending\", \"createdAtMs\": \"2020-02-21 13:23:19.000\"}")
	green, red := reviewed(t, "GREEN", "2020-02-21 13:23:19.100"), reviewed(t, "RED", "2020-02-21 13:23:19.200")
	maybe := reviewed(t, "MAYBE", "2020-02-21 13:23:19.300")
	awaiting := sumsubBody(t, "applicantPending", "2020-02-21 13:23:19.400", map[string]any{"reviewStatus": "awaitingService"})
	noLevel := pending("005", map[string]any{"levelName": nil})
	textPlain := func(h http.Header) http.Header { h.Set("Content-Type", "text/plain"); return h }
	for _, tt := range []struct {
		defect Defect
		steps  []step
		// what the last step gets, clean and with the defect
		clean, broken int
		// the probe of the subject after all steps, clean and with the defect (-1: not checked)
		cleanEvents, brokenEvents int
		cleanStatus, brokenStatus string
		subject                   string
	}{
		{DefectNoSignatureCheck, []step{sumsubStep(pending("001", nil), jsonCT)}, 401, 200, -1, -1, "", "", ""},
		{DefectAssumeSHA256, []step{sumsubStep(pending("001", nil), signed(pending("001", nil), "HMAC_SHA1_HEX"))}, 200, 401, -1, -1, "", "", ""},
		{DefectReserializedBody, []step{sumsubStep(spaced, signed(spaced, "HMAC_SHA256_HEX"))}, 200, 401, -1, -1, "", "", ""},
		{DefectNoDedup, []step{sumsubStep(green, signed(green, "HMAC_SHA256_HEX")), sumsubStep(green, signed(green, "HMAC_SHA256_HEX"))}, 200, 200, 1, 2, "completed/GREEN", "completed/GREEN", "5cb744200a975a67ed1798a4"},
		{DefectMergeFinals, []step{sumsubStep(green, signed(green, "HMAC_SHA256_HEX")), sumsubStep(red, signed(red, "HMAC_SHA256_HEX"))}, 200, 200, 2, 1, "completed/RED", "completed/GREEN", "5cb744200a975a67ed1798a4"},
		{DefectStateRegression, []step{kyxStep("PROCESSED", "2026-05-30T12:00:00.000Z"), kyxStep("ACQUIRED", "2026-05-30T11:59:00.000Z")}, 200, 200, 2, 2, "PROCESSED", "ACQUIRED", kyxID},
		{DefectStrictMillis, []step{kyxStep("ACQUIRED", "2026-05-30T12:00:00.12Z")}, 200, 400, -1, -1, "", "", ""},
		{DefectBoolSandboxMode, []step{sumsubStep(pending("003", map[string]any{"sandboxMode": "false"}), signed(pending("003", map[string]any{"sandboxMode": "false"}), "HMAC_SHA256_HEX"))}, 200, 400, -1, -1, "", "", ""},
		{DefectUnknownFields5xx, []step{sumsubStep(pending("004", map[string]any{"extra": 1}), signed(pending("004", map[string]any{"extra": 1}), "HMAC_SHA256_HEX"))}, 200, 500, -1, -1, "", "", ""},
		{DefectRejectUnknownType, []step{sumsubStep(sumsubBody(t, "applicantKytTxnApproved", "2020-02-21 13:23:19.005", nil), signed(sumsubBody(t, "applicantKytTxnApproved", "2020-02-21 13:23:19.005", nil), "HMAC_SHA256_HEX"))}, 200, 400, -1, -1, "", "", ""},
		{DefectAcceptInvalid, []step{sumsubStep(maybe, signed(maybe, "HMAC_SHA256_HEX"))}, 400, 200, 0, 1, "", "completed/MAYBE", "5cb744200a975a67ed1798a4"},
		{DefectAcceptInvalid, []step{kyxStep("DONE", "2026-05-30T12:00:00.000Z")}, 200, 200, 0, 1, "", "DONE", kyxID},
		{DefectUnusable5xx, []step{sumsubStep([]byte{}, signed([]byte{}, "HMAC_SHA256_HEX"))}, 400, 500, -1, -1, "", "", ""},
		{DefectUnusable5xx, []step{kyxStep("DONE", "2026-05-30T12:00:00.000Z")}, 200, 500, 0, 0, "", "", kyxID},
		{DefectUnknownStatusApproved, []step{sumsubStep(awaiting, signed(awaiting, "HMAC_SHA256_HEX"))}, 200, 200, 1, 1, "awaitingService", "completed/GREEN", "5cb744200a975a67ed1798a4"},
		{DefectRejectStrict, []step{sumsubStep(noLevel, signed(noLevel, "HMAC_SHA256_HEX"))}, 200, 400, 1, 0, "pending", "", "5cb744200a975a67ed1798a4"},
		{DefectRejectStrict, []step{sumsubStep(pending("007", nil), textPlain(signed(pending("007", nil), "HMAC_SHA256_HEX")))}, 200, 400, 1, 0, "pending", "", "5cb744200a975a67ed1798a4"},
		{DefectAnySource, []step{{"/jumio/kyx", "127.0.0.2", jsonCT, kyxBody(kyxID, "ACQUIRED", "2026-05-30T12:00:00Z", "")}}, 403, 200, -1, -1, "", "", ""},
		{DefectTrustForwardedFor, []step{{"/jumio/kyx", "127.0.0.2", http.Header{"Content-Type": {"application/json"}, "X-Forwarded-For": {"34.202.241.227"}}, kyxBody(kyxID, "ACQUIRED", "2026-05-30T12:00:00Z", "")}}, 403, 200, -1, -1, "", "", ""},
	} {
		t.Run(string(tt.defect), func(t *testing.T) {
			t.Parallel()
			for i, defects := range [][]Defect{nil, {tt.defect}} {
				h := newHarness(t, Config{Defects: defects})
				var got int
				var msg string
				for _, s := range tt.steps {
					got, msg = h.post(s.path, s.from, s.header, s.body)
				}
				want, wantEvents, wantStatus := tt.clean, tt.cleanEvents, tt.cleanStatus
				if i == 1 {
					want, wantEvents, wantStatus = tt.broken, tt.brokenEvents, tt.brokenStatus
				}
				if got != want {
					t.Errorf("defects %v: last answer %d %s, want %d", defects, got, msg, want)
				}
				if wantEvents >= 0 {
					if n, st, _ := h.rc.Probe(tt.subject); n != wantEvents || st != wantStatus {
						t.Errorf("defects %v: probe %d %q, want %d %q", defects, n, st, wantEvents, wantStatus)
					}
				}
			}
		})
	}
}

// TestSlowDefect checks that the slow defect holds the answer back.
func TestSlowDefect(t *testing.T) {
	h := newHarness(t, Config{Defects: []Defect{DefectSlow}, SlowDelay: 200 * time.Millisecond})
	start := time.Now()
	h.post("/jumio/kyx", "127.0.0.1", http.Header{"Content-Type": {"application/json"}}, kyxBody(kyxID, "ACQUIRED", "2026-05-30T12:00:00Z", ""))
	if el := time.Since(start); el < 200*time.Millisecond {
		t.Errorf("answered after %s, want at least 200ms", el)
	}
}

// TestActsOnRefusedLater checks that the defect answers a callback that
// fails the authenticity check as the clean receiver does, and acts on it
// LaterDelay afterwards.
func TestActsOnRefusedLater(t *testing.T) {
	tampered := reviewed(t, "GREEN", "2020-02-21 13:23:19.100")
	sumsubHeader := http.Header{"Content-Type": {"application/json"}, "X-Payload-Digest-Alg": {"HMAC_SHA256_HEX"},
		"X-Payload-Digest": {hexHMAC(sha256.New, "another secret", tampered)}}
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	for _, tt := range []struct {
		name, path, from string
		header           http.Header
		body             []byte
		subject, status  string
		refused          int
	}{
		{"sumsub wrong secret", "/sumsub", "", sumsubHeader, tampered, "5cb744200a975a67ed1798a4", "completed/GREEN", 401},
		{"jumio foreign source", "/jumio/kyx", "127.0.0.2", jsonCT, kyxBody(kyxID, "ACQUIRED", "2026-05-30T12:00:00.000Z", ""), kyxID, "ACQUIRED", 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, defects := range [][]Defect{nil, {DefectActsOnRefusedLater}} {
				h := newHarness(t, Config{Defects: defects, LaterDelay: 300 * time.Millisecond})
				if got, msg := h.post(tt.path, tt.from, tt.header, tt.body); got != tt.refused {
					t.Errorf("defects %v: %d %s, want %d", defects, got, msg, tt.refused)
				}
				if n, _, _ := h.rc.Probe(tt.subject); n != 0 {
					t.Errorf("defects %v: acted on at once (%d events)", defects, n)
				}
				if defects == nil {
					// The clean receiver schedules nothing: Close returns
					// at once, and the probe stays empty.
					ctx, cancel := context.WithTimeout(context.Background(), time.Second)
					defer cancel()
					if err := h.rc.Close(ctx); err != nil {
						t.Fatal(err)
					}
					if n, _, _ := h.rc.Probe(tt.subject); n != 0 {
						t.Errorf("clean receiver acted on a refused callback: %d events", n)
					}
					continue
				}
				eventually(t, func() bool { n, _, _ := h.rc.Probe(tt.subject); return n == 1 })
				if _, st, _ := h.rc.Probe(tt.subject); st != tt.status {
					t.Errorf("status %q, want %q", st, tt.status)
				}
			}
		})
	}
	// Content it cannot use is not acted on, later either.
	h := newHarness(t, Config{Defects: []Defect{DefectActsOnRefusedLater}, LaterDelay: time.Millisecond})
	bad := sumsubBody(t, "applicantPending", "2020-02-21 13:23:19.000", map[string]any{"applicantId": nil})
	h.post("/sumsub", "", http.Header{"X-Payload-Digest": {"00"}, "X-Payload-Digest-Alg": {"HMAC_SHA256_HEX"}}, bad)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.rc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if subjects, _ := h.rc.state.size(); subjects != 0 {
		t.Errorf("acted on unusable content: %d subjects", subjects)
	}
}
