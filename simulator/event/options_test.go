package event

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/kycsim/kycsim/spec/format"
)

func TestBuildErrors(t *testing.T) {
	cat := testCatalog(t)
	long := "http://" + strings.Repeat("h", 230) + ".test"
	tests := []struct {
		product, message string
		opt              Options
		wantErr          string
	}{
		{"nope", "PROCESSED", Options{}, "nope"},
		{"jumio-kyx", "NOPE", Options{}, "NOPE"},
		{"jumio-kyx", "PROCESSED", Options{Precision: Digits(4)}, "precision 4"},
		{"jumio-kyx", "PROCESSED", Options{Precision: Digits(-2)}, "precision -2"},
		{"jumio-kyx", "PROCESSED", Options{VendorBase: "ftp://x"}, "scheme must be http or https"},
		{"jumio-kyx", "PROCESSED", Options{VendorBase: "http://"}, "no host"},
		{"jumio-kyx", "PROCESSED", Options{VendorBase: "127.0.0.1:8089"}, "vendor base"},
		{"jumio-kyx", "PROCESSED", Options{VendorBase: "http://h/?q=1"}, "no user, query or fragment"},
		{"jumio-kyx", "PROCESSED", Options{VendorBase: "http://h/a b"}, "vendor base"},
		{"jumio-kyx", "PROCESSED", Options{Subject: "not-a-uuid"}, "is a UUID"},
		{"jumio-kyx", "PROCESSED", Options{AccountID: "acc"}, "is a UUID"},
		{"jumio-kyx", "PROCESSED", Options{SandboxMode: "bool"}, "Sumsub field"},
		{"jumio-kyx", "PROCESSED", Options{RejectCode: "100"}, "jumio-netverify field"},
		{"jumio-kyx", "PROCESSED", Options{Now: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "year"},
		{"jumio-netverify", "DENIED_FRAUD", Options{Subject: strings.Repeat("r", 37)}, "at most 36"},
		{"jumio-netverify", "DENIED_FRAUD", Options{RejectCode: "200"}, "DENIED_FRAUD reject codes are 100, 105"},
		{"jumio-netverify", "ERROR_NOT_READABLE_ID", Options{RejectCode: "100"}, "reject codes are 102"},
		{"jumio-netverify", "APPROVED_VERIFIED", Options{RejectCode: "100"}, "carries no rejectReason"},
		{"jumio-netverify", "APPROVED_VERIFIED", Options{VendorBase: long}, "at most 255"},
		{"jumio-netverify", "APPROVED_VERIFIED", Options{AccountID: "x"}, "jumio-kyx field"},
		{"jumio-auth", "PASSED", Options{Sandbox: true}, "Sumsub field"},
		{"jumio-auth", "PASSED", Options{RejectCode: "100"}, "jumio-netverify field"},
		{"jumio-docverify", "UPLOADED", Options{ReviewAnswer: "RED"}, "Sumsub field"},
		{"sumsub", "applicantCreated", Options{Precision: Digits(2)}, "always have 3 millisecond digits"},
		{"sumsub", "applicantCreated", Options{SandboxMode: "yes"}, `sandbox mode "yes"`},
		{"sumsub", "applicantCreated", Options{ReviewAnswer: "GREEN"}, "carries no reviewResult"},
		{"sumsub", "applicantReviewed", Options{ReviewAnswer: "YELLOW"}, "GREEN or RED"},
		{"sumsub", "applicantReviewed", Options{ReviewAnswer: "RED", ReviewRejectType: "LATER"}, "FINAL or RETRY"},
		{"sumsub", "applicantReviewed", Options{RejectLabels: []string{"SPAM"}}, "come with review answer RED"},
		{"sumsub", "applicantReviewed", Options{ReviewAnswer: "RED", RejectLabels: []string{""}}, "reject label 1 is empty"},
		{"sumsub", "applicantReviewed", Options{AccountID: "x"}, "jumio-kyx field"},
		{"sumsub", "applicantReviewed", Options{Subject: "\xff"}, "UTF-8"},
	}
	for _, tc := range tests {
		e, err := Build(cat, tc.product, tc.message, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("Build(%s, %s, %+v) = %v, %v; want an error containing %q", tc.product, tc.message, tc.opt, e, err, tc.wantErr)
		}
	}
	if _, err := Build(nil, "sumsub", "applicantCreated", Options{}); err == nil {
		t.Errorf("Build with no catalog succeeded")
	}
}

// TestBuildOptions checks options whose effect the catalog cannot see.
func TestBuildOptions(t *testing.T) {
	cat := testCatalog(t)
	kyx, err := Build(cat, "jumio-kyx", "processed", Options{ // case-insensitive message
		Subject:    "22222222-3333-4444-5555-666666666666",
		AccountID:  "11111111-2222-3333-4444-555555555555",
		VendorBase: "https://sandbox.test/",
		Now:        fixedNow,
		Precision:  Digits(0),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"callbackSentAt":"2026-05-30T12:00:00Z","userReference":"customer-user-`
	if kyx.Message != "PROCESSED" || !bytes.HasPrefix(kyx.Body(), []byte(want)) {
		t.Errorf("message %s, body %s", kyx.Message, kyx.Body())
	}
	wantTail := `"workflowExecution":{"id":"22222222-3333-4444-5555-666666666666","href":"https://sandbox.test/api/v1/accounts/11111111-2222-3333-4444-555555555555/workflow-executions/22222222-3333-4444-5555-666666666666","definitionKey":"10001","status":"PROCESSED"},"account":{"id":"11111111-2222-3333-4444-555555555555","href":"https://sandbox.test/api/v1/accounts/11111111-2222-3333-4444-555555555555"}}`
	if !bytes.HasSuffix(kyx.Body(), []byte(wantTail)) {
		t.Errorf("body %s\nwant suffix %s", kyx.Body(), wantTail)
	}
	if kyx.Subject != "22222222-3333-4444-5555-666666666666" {
		t.Errorf("Subject %q", kyx.Subject)
	}

	s, err := Build(cat, "sumsub", "applicantWorkflowCompleted", Options{Subject: "64106d6b7d5a2d5159e6b0ff", Now: fixedNow, SandboxMode: SandboxModeString, Sandbox: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{
		`{"applicantId":"64106d6b7d5a2d5159e6b0ff","inspectionId":"64106d6b7d5a2d5159e6b100",`,
		`"sandboxMode":"true",`,
		`"createdAt":"2026-05-30 12:00:00+0000","createdAtMs":"2026-05-30 12:00:00.987",`,
	} {
		if !bytes.Contains(s.Body(), []byte(part)) {
			t.Errorf("body %s lacks %s", s.Body(), part)
		}
	}
	// A subject that is not an object id gets an unrelated inspection id.
	s, err = Build(cat, "sumsub", "applicantCreated", Options{Subject: "my-applicant"})
	if err != nil {
		t.Fatal(err)
	}
	if insp, _ := s.Root.Get("inspectionId"); len(insp.(string)) != 24 || s.Subject != "my-applicant" {
		t.Errorf("inspectionId %v, subject %q", insp, s.Subject)
	}
}

// TestBuildDeterministic checks that a seed and a time fix the event, and
// that without a seed events differ.
func TestBuildDeterministic(t *testing.T) {
	cat := testCatalog(t)
	for _, p := range cat.Products() {
		m := p.MessageNames()[0]
		build := func(opt Options) []byte {
			e, err := Build(cat, p.Name, m, opt)
			if err != nil {
				t.Fatal(err)
			}
			return e.Body()
		}
		a := build(Options{Rand: rand.New(rand.NewPCG(9, 9)), Now: fixedNow})
		b := build(Options{Rand: rand.New(rand.NewPCG(9, 9)), Now: fixedNow})
		c := build(Options{Rand: rand.New(rand.NewPCG(10, 9)), Now: fixedNow})
		d := build(Options{Now: fixedNow})
		e := build(Options{Now: fixedNow})
		if !bytes.Equal(a, b) {
			t.Errorf("%s: the same seed built\n%s\n%s", p.Name, a, b)
		}
		if bytes.Equal(a, c) || bytes.Equal(d, e) {
			t.Errorf("%s: different seeds built the same body", p.Name)
		}
	}
}

// TestBuildNow checks that the event time defaults to the clock.
func TestBuildNow(t *testing.T) {
	cat := testCatalog(t)
	before := time.Now().UTC().Truncate(time.Millisecond)
	e, err := Build(cat, "jumio-kyx", "PROCESSED", Options{})
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now().UTC()
	v, _ := e.Root.Get("callbackSentAt")
	ts, digits, err := format.ParseJumioTimestamp(v.(string))
	if err != nil || digits != 3 || ts.Before(before) || ts.After(after) {
		t.Errorf("callbackSentAt %v (%d digits, %v) not between %v and %v", v, digits, err, before, after)
	}
}

func TestNextObjectID(t *testing.T) {
	tests := map[string]string{
		"5c9e177b0a975a6eeccf5960": "5c9e177b0a975a6eeccf5961",
		"5c9e177b0a975a6eeccf5969": "5c9e177b0a975a6eeccf596a",
		"5c9e177b0a975a6eeccf59ff": "5c9e177b0a975a6eeccf5a00",
		"ffffffffffffffffffffffff": "000000000000000000000000",
	}
	for in, want := range tests {
		if got, ok := nextObjectID(in); !ok || got != want {
			t.Errorf("nextObjectID(%s) = %s, %v; want %s", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "5c9e177b0a975a6eeccf596", "5C9E177B0A975A6EECCF5960", "5c9e177b0a975a6eeccf596g"} {
		if _, ok := nextObjectID(bad); ok {
			t.Errorf("nextObjectID(%q) accepted it", bad)
		}
	}
}
