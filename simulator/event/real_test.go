package event

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycsim/kycsim/spec"
	"github.com/kycsim/kycsim/spec/form"
)

// seedVariants lists every choice point a seed decides and its values.
var seedVariants = ChoicePoints()

// TestSeedVariants builds every message of every product with many seeds
// in both forms, checks that every event passes level vendor (and, in the
// table form, level strict), and that the seeds reached every value of
// every choice point: so each seed-chosen variant has passed.
func TestSeedVariants(t *testing.T) {
	cat := testCatalog(t)
	const seeds = 120
	seen := map[string]map[string]int{}
	for _, p := range cat.Products() {
		for _, m := range p.MessageNames() {
			for _, form := range []string{FormReal, FormTable} {
				for seed := uint64(1); seed <= seeds; seed++ {
					opt := Options{Form: form, Rand: NewRand(seed), Now: fixedNow}
					e, err := Build(cat, p.Name, m, opt)
					if err != nil {
						t.Fatalf("%s %s seed %d: %v", p.Name, m, seed, err)
					}
					body := e.Body()
					checkVendor(t, p, m, body)
					if form == FormTable {
						res, err := p.Validate(body, spec.Options{Level: spec.LevelStrict, Message: m})
						if err != nil {
							t.Fatal(err)
						}
						if !res.Valid() {
							t.Errorf("%s %s seed %d, table form: level strict:%s\nbody: %s", p.Name, m, seed, describe(res.Violations), body)
						}
					}
					for name, v := range e.variants {
						if seen[name] == nil {
							seen[name] = map[string]int{}
						}
						seen[name][v]++
					}
				}
			}
		}
	}
	for name, values := range seedVariants {
		for _, v := range values {
			if seen[name][v] == 0 {
				t.Errorf("choice point %s never took %q in %d seeds (seen %v)", name, v, seeds, seen[name])
			}
		}
	}
	for name, got := range seen {
		want, ok := seedVariants[name]
		if !ok {
			t.Errorf("choice point %s (values %v) is not listed in seedVariants: list it so its variants are checked", name, slices.Sorted(maps.Keys(got)))
			continue
		}
		for v := range got {
			if !slices.Contains(want, v) {
				t.Errorf("choice point %s took %q, not listed in seedVariants", name, v)
			}
		}
	}
}

// TestSeedRepeatable checks that a seed and a fixed clock give the same
// bytes, every option included, and that another seed does not.
func TestSeedRepeatable(t *testing.T) {
	cat := testCatalog(t)
	for _, p := range cat.Products() {
		for _, m := range p.MessageNames() {
			build := func(seed uint64) []byte {
				opt := Options{Rand: NewRand(seed), Now: fixedNow}
				if p.Name == "sumsub" {
					opt.Nulls = true
				}
				e, err := Build(cat, p.Name, m, opt)
				if err != nil {
					t.Fatal(err)
				}
				return e.Body()
			}
			a, b, c := build(42), build(42), build(43)
			if !bytes.Equal(a, b) {
				t.Errorf("%s %s: seed 42 built\n%s\n%s", p.Name, m, a, b)
			}
			if bytes.Equal(a, c) {
				t.Errorf("%s %s: seeds 42 and 43 built the same body %s", p.Name, m, a)
			}
		}
	}
	if RandomSeed() == RandomSeed() && RandomSeed() == RandomSeed() {
		t.Errorf("RandomSeed repeats itself")
	}
}

// formField returns the text of a form field of a body.
func formField(t *testing.T, body []byte, name string) string {
	t.Helper()
	fb, err := form.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := fb.Get(name)
	return v
}

// TestForms pins the fields whose form the two forms differ in.
func TestForms(t *testing.T) {
	cat := testCatalog(t)
	build := func(product, message string, opt Options) *Event {
		t.Helper()
		opt.Now = fixedNow
		if opt.Rand == nil {
			opt.Rand = NewRand(7)
		}
		e, err := Build(cat, product, message, opt)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	for _, tc := range []struct {
		form, validity, face string
	}{
		{"", `"validity":true`, `http://`},
		{FormReal, `"validity":true`, `http://`},
		{FormTable, `"validity":"TRUE"`, `["http://`},
	} {
		nv := build("jumio-netverify", "APPROVED_VERIFIED", Options{Form: tc.form})
		if iv := formField(t, nv.Body(), "identityVerification"); !strings.Contains(iv, tc.validity) {
			t.Errorf("form %q: identityVerification %s, want %s", tc.form, iv, tc.validity)
		}
		auth := build("jumio-auth", "PASSED", Options{Form: tc.form})
		if face := formField(t, auth.Body(), "idScanImageFace"); !strings.HasPrefix(face, tc.face) {
			t.Errorf("form %q: idScanImageFace %s, want it to start %s", tc.form, face, tc.face)
		}
	}
	// signatureAvailable comes with Social Security cards only: find one.
	found := map[string]bool{}
	for seed := uint64(1); seed < 200 && len(found) < 2; seed++ {
		for _, f := range []string{FormReal, FormTable} {
			dv := build("jumio-docverify", "EXTRACTED", Options{Form: f, Rand: NewRand(seed)})
			doc := formField(t, dv.Body(), "document")
			if !strings.Contains(doc, `"type":"SSC"`) {
				continue
			}
			isString := strings.Contains(doc, `"signatureAvailable":"`)
			if isString != (f == FormTable) {
				t.Errorf("form %q: %s", f, doc)
			}
			found[f] = true
		}
	}
	if len(found) != 2 {
		t.Errorf("no Social Security card in 200 seeds: %v", found)
	}
	// KYT webhooks: the document's envelope in the table form only.
	real := build("sumsub", "applicantKytTxnApproved", Options{})
	table := build("sumsub", "applicantKytTxnApproved", Options{Form: FormTable})
	for _, k := range []string{"inspectionId", "levelName"} {
		if _, ok := real.Root.Get(k); ok {
			t.Errorf("real KYT webhook has %s: %s", k, real.Body())
		}
		if _, ok := table.Root.Get(k); !ok {
			t.Errorf("table-form KYT webhook lacks %s: %s", k, table.Body())
		}
	}
	// A KYT rejection is RED unless told otherwise.
	rej := build("sumsub", "applicantKytTxnRejected", Options{})
	if !bytes.Contains(rej.Body(), []byte(`"reviewAnswer":"RED"`)) {
		t.Errorf("applicantKytTxnRejected: %s", rej.Body())
	}
}

// TestSumsubRealTraffic pins the members real deliveries carry and the
// nulls option.
func TestSumsubRealTraffic(t *testing.T) {
	cat := testCatalog(t)
	e, err := Build(cat, "sumsub", "applicantCreated", Options{Subject: "5c9e177b0a975a6eeccf5960", Now: fixedNow, Rand: NewRand(1), Nulls: true})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(e.Root.Keys(), ",")
	want := "applicantId,applicantActionId,externalApplicantActionId,inspectionId,applicantType,correlationId,levelName,previousLevelName," +
		"externalUserId,type,sandboxMode,reviewResult,reviewStatus,videoIdentReviewStatus,applicantMemberOf,createdAt,createdAtMs,clientId"
	if got != want {
		t.Errorf("members\n got %s\nwant %s", got, want)
	}
	for _, part := range []string{
		`"applicantActionId":null,"externalApplicantActionId":null,"inspectionId":"5c9e177b0a975a6eeccf5961","applicantType":"individual",`,
		`"previousLevelName":null,`, `"sandboxMode":false,"reviewResult":null,"reviewStatus":"init","videoIdentReviewStatus":null,"applicantMemberOf":null,`,
		`"createdAt":"2026-05-30 12:00:00+0000","createdAtMs":"2026-05-30 12:00:00.987","clientId":"kycsim-client"}`,
	} {
		if !bytes.Contains(e.Body(), []byte(part)) {
			t.Errorf("body %s lacks %s", e.Body(), part)
		}
	}
	// The example's string sandboxMode is one option away.
	s, err := Build(cat, "sumsub", "applicantReviewed", Options{SandboxMode: SandboxModeString, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Root.Get("sandboxMode"); v != "false" {
		t.Errorf("sandboxMode %#v, want the string", v)
	}
}

func TestFormAndNullsErrors(t *testing.T) {
	cat := testCatalog(t)
	for _, tc := range []struct {
		product, message string
		opt              Options
		want             string
	}{
		{"sumsub", "applicantCreated", Options{Form: "strict"}, `form "strict": use "real" or "table"`},
		{"jumio-kyx", "PROCESSED", Options{Nulls: true}, "nulls"},
		{"jumio-netverify", "APPROVED_VERIFIED", Options{Nulls: true}, "Sumsub habit"},
	} {
		if _, err := Build(cat, tc.product, tc.message, tc.opt); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Build(%s, %s, %+v) = %v, want an error containing %q", tc.product, tc.message, tc.opt, err, tc.want)
		}
	}
}

// TestRejectCodes checks the reject codes against the catalog: each one
// the generator lists builds an event that passes level strict, and a
// code of the other status does not.
func TestRejectCodes(t *testing.T) {
	cat := testCatalog(t)
	p, err := cat.Product("jumio-netverify")
	if err != nil {
		t.Fatal(err)
	}
	for _, status := range []string{"DENIED_FRAUD", "ERROR_NOT_READABLE_ID"} {
		codes := RejectCodes(status)
		if len(codes) == 0 {
			t.Fatalf("no codes for %s", status)
		}
		for _, code := range codes {
			if RejectCodeStatus(code) != status {
				t.Errorf("RejectCodeStatus(%s) = %q, want %s", code, RejectCodeStatus(code), status)
			}
			e, err := Build(cat, p.Name, status, Options{RejectCode: code, Form: FormTable, Now: fixedNow, Rand: NewRand(3)})
			if err != nil {
				t.Fatal(err)
			}
			res, err := p.Validate(e.Body(), spec.Options{Level: spec.LevelStrict, Message: status})
			if err != nil || !res.Valid() {
				t.Errorf("%s code %s: %v%s", status, code, err, describe(res.Violations))
			}
		}
	}
	for _, code := range []string{"101", "212", "", "1000"} {
		if st := RejectCodeStatus(code); st != "" {
			t.Errorf("RejectCodeStatus(%q) = %s, want none", code, st)
		}
	}
	if RejectCodes("APPROVED_VERIFIED") != nil {
		t.Errorf("APPROVED_VERIFIED has reject codes")
	}
	// A code of the other status is refused by the catalog too.
	e, err := Build(cat, p.Name, "DENIED_FRAUD", Options{Form: FormTable, Now: fixedNow, Rand: NewRand(3)})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Set("rejectReason.rejectReasonCode", `"200"`); err != nil {
		t.Fatal(err)
	}
	if res, _ := p.Validate(e.Body(), spec.Options{Level: spec.LevelStrict, Message: "DENIED_FRAUD"}); res.Valid() {
		t.Errorf("the catalog takes code 200 for DENIED_FRAUD")
	}
}

// TestMessageFields checks override paths against the catalog's fields.
func TestMessageFields(t *testing.T) {
	cat := testCatalog(t)
	fields := func(product, message string) *Fields {
		t.Helper()
		p, err := cat.Product(product)
		if err != nil {
			t.Fatal(err)
		}
		f, err := MessageFields(p, message)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	known := map[[2]string][]string{
		{"sumsub", "applicantReviewed"}: {"levelName", "reviewResult", "reviewResult.reviewAnswer", "reviewResult.rejectLabels.0",
			"/reviewResult/rejectLabels/-", "reviewResult.buttonIds.3", "applicantMemberOf.0.applicantId", "sourceKey", "sandboxMode", "testMode"},
		{"sumsub", "applicantKytTxnApproved"}: {"kytTxnId", "kytTxnType", "inspectionId"},
		{"jumio-kyx", "PROCESSED"}:            {"callbackSentAt", "workflowExecution.status", "/account/href", "userReference"},
		{"jumio-netverify", "APPROVED_VERIFIED"}: {"identityVerification.validity", "idAddress.stateCode", "idAddress.formattedAddress",
			"dlCategories.0.category", "livenessImages.2", "customerId", "firstAttemptDate"},
		{"jumio-netverify", "DENIED_FRAUD"}: {"rejectReason.rejectReasonCode", "rejectReason.rejectReasonDetails.0.detailsCode"},
		{"jumio-docverify", "EXTRACTED"}:    {"document.status", "document.extractedData.signatureAvailable", "document.images.0", "transaction.customerId"},
		{"jumio-auth", "PASSED"}:            {"idScanImageFace", "idScanImageFace.0", "livenessImages.0", "userReference"},
	}
	for pm, paths := range known {
		f := fields(pm[0], pm[1])
		for _, path := range paths {
			if err := f.Check(path); err != nil {
				t.Errorf("%s %s: Check(%s) = %v", pm[0], pm[1], path, err)
			}
		}
	}
	for _, tc := range []struct {
		product, message, path string
		want                   string
		suggestion             string
	}{
		{"sumsub", "applicantReviewed", "someNewField", `"someNewField" names no field of sumsub applicantReviewed (kycsim spec schema sumsub applicantReviewed lists them)`, ""},
		{"sumsub", "applicantReviewed", "reviewResult.reviewAnswr", `"reviewResult.reviewAnswr" names no field of sumsub applicantReviewed; did you mean "reviewResult.reviewAnswer"?`, "reviewResult.reviewAnswer"},
		{"sumsub", "applicantReviewed", "levelNme", "", "levelName"},
		{"sumsub", "applicantReviewed", "rejectLabels.0", `"rejectLabels.0": "rejectLabels" names no field of sumsub applicantReviewed; did you mean "reviewResult.rejectLabels.0"?`, "reviewResult.rejectLabels.0"},
		{"sumsub", "applicantReviewed", "/reviewResult/reviewanswer", "", "/reviewResult/reviewAnswer"},
		{"jumio-kyx", "PROCESSED", "workflowExecution.stauts", "", "workflowExecution.status"},
		{"jumio-kyx", "PROCESSED", "topLevelNew", "", ""},
		{"jumio-netverify", "APPROVED_VERIFIED", "identityVerification.validty", "", "identityVerification.validity"},
		{"jumio-netverify", "APPROVED_VERIFIED", "callBackType.x", `"callBackType.x" names no field of jumio-netverify APPROVED_VERIFIED (kycsim spec schema jumio-netverify APPROVED_VERIFIED lists them)`, ""},
		{"jumio-docverify", "EXTRACTED", "document.stat", "", "document.status"},
	} {
		err := fields(tc.product, tc.message).Check(tc.path)
		var ue *UnknownFieldError
		if !errors.As(err, &ue) {
			t.Errorf("%s %s: Check(%s) = %v, want an UnknownFieldError", tc.product, tc.message, tc.path, err)
			continue
		}
		if ue.Suggestion != tc.suggestion {
			t.Errorf("%s: suggestion %q, want %q", tc.path, ue.Suggestion, tc.suggestion)
		}
		if tc.want != "" && err.Error() != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.path, err, tc.want)
		}
	}
	if err := fields("sumsub", "applicantCreated").Check("a..b"); err == nil || errors.As(err, new(*UnknownFieldError)) {
		t.Errorf("a malformed path: %v", err)
	}
	p, _ := cat.Product("sumsub")
	if _, err := MessageFields(p, "noSuchType"); err == nil {
		t.Errorf("MessageFields of an unknown message succeeded")
	}
}

// TestMessageFieldsCoverBuiltEvents checks that every member of every
// built event names a field: the generator sends nothing the catalog does
// not know.
func TestMessageFieldsCoverBuiltEvents(t *testing.T) {
	cat := testCatalog(t)
	for _, p := range cat.Products() {
		for _, m := range p.MessageNames() {
			f, err := MessageFields(p, m)
			if err != nil {
				t.Fatal(err)
			}
			for seed := uint64(1); seed <= 20; seed++ {
				opt := Options{Rand: NewRand(seed), Now: fixedNow.Add(time.Duration(seed) * time.Second)}
				if p.Name == "sumsub" {
					opt.Nulls = true
				}
				e, err := Build(cat, p.Name, m, opt)
				if err != nil {
					t.Fatal(err)
				}
				var walk func(v any, at []string)
				walk = func(v any, at []string) {
					if len(at) > 0 {
						if err := f.Check(FormatPointer(at)); err != nil {
							t.Errorf("%s %s seed %d: %v", p.Name, m, seed, err)
							return
						}
					}
					switch v := v.(type) {
					case *Object:
						for _, k := range v.Keys() {
							c, _ := v.Get(k)
							walk(c, append(slices.Clone(at), k))
						}
					case []any:
						for i, c := range v {
							walk(c, append(slices.Clone(at), fmt.Sprint(i)))
						}
					}
				}
				walk(e.Root, nil)
			}
		}
	}
}
