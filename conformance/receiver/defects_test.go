package receiver

import (
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
		{DefectAcceptInvalid, []step{sumsubStep(pending("006", map[string]any{"reviewStatus": "done"}), signed(pending("006", map[string]any{"reviewStatus": "done"}), "HMAC_SHA256_HEX"))}, 400, 200, -1, -1, "", "", ""},
		{DefectAnySource, []step{{"/jumio/kyx", "127.0.0.2", jsonCT, kyxBody(kyxID, "ACQUIRED", "2026-05-30T12:00:00Z", "")}}, 403, 200, -1, -1, "", "", ""},
		{DefectTrustForwardedFor, []step{{"/jumio/kyx", "127.0.0.2", http.Header{"Content-Type": {"application/json"}, "X-Forwarded-For": {"34.202.241.227"}}, kyxBody(kyxID, "ACQUIRED", "2026-05-30T12:00:00Z", "")}}, 403, 200, -1, -1, "", "", ""},
	} {
		t.Run(string(tt.defect), func(t *testing.T) {
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
					if n, st := h.probe(tt.subject); n != wantEvents || st != wantStatus {
						t.Errorf("defects %v: probe %d %v, want %d %s", defects, n, st, wantEvents, wantStatus)
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
