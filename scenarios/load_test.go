package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycsim/kycsim/conformance/receiver"
	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

func catalog(t testing.TB) *spec.Catalog {
	t.Helper()
	cat, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func ptr[T any](v T) *T { return &v }

// pretty renders a value for a failure message.
func pretty(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// readmeExample is the ```yaml block of scenarios/README.md.
var readmeExample = regexp.MustCompile("(?s)\n```yaml\n(.*?)```\n")

// TestExample loads the language example, checks that scenarios/README.md
// shows it byte for byte, compares every decoded field, and plays it
// against the reference receiver.
func TestExample(t *testing.T) {
	const file = "testdata/example.yaml"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeExample.FindAllSubmatch(readme, -1)
	if len(blocks) != 1 {
		t.Errorf("scenarios/README.md has %d ```yaml blocks, want 1: the example", len(blocks))
	} else if !bytes.Equal(blocks[0][1], data) {
		t.Errorf("the ```yaml block of scenarios/README.md is not %s byte for byte", file)
	}
	sc, err := Load(file, data, catalog(t))
	if err != nil {
		t.Fatal(err)
	}
	at := func(line, col int) Pos { return Pos{File: file, Line: line, Col: col} }
	reviewed := &Redeliver{Step: "reviewed", Expect: &Answer{Status: "2xx", Pos: at(62, 55)}}
	want := &Scenario{
		Name:        "example/every-option",
		Product:     "sumsub",
		Description: "Every step kind and every Sumsub option; plays green against the reference receiver.",
		Tags:        []string{"example", "sumsub"},
		Vars: []Var{
			{Name: "subject", Value: "5cb744200a975a67ed1798a4", Pos: at(7, 3)},
			{Name: "other", Generate: "sumsub-id", Pos: at(8, 3)},
			{Name: "proxy", Value: "127.0.0.2", Pos: at(9, 3)},
		},
		Pos: at(2, 1),
		Steps: []Step{
			{Kind: KindVendorState, Pos: at(11, 5), VendorState: &VendorState{
				ReviewStatus: "completed", ReviewAnswer: "RED", RejectLabels: []string{"FORGERY"}, RejectType: "FINAL"}},
			{Kind: KindSend, ID: "pending", Name: "the applicant uploads documents", Pos: at(16, 5), Send: &Send{
				Message: "applicantPending", SandboxMode: "string",
				Delivery: Delivery{From: "${proxy}", ForwardedFor: "34.202.241.227",
					Headers: []Header{{"X-Trace", "trace-${subject}"}}, AnswerTimeout: 5 * time.Second},
				Expect: &Answer{Status: "2xx", Within: 2 * time.Second, Pos: at(24, 13)}}},
			{Kind: KindWait, Pos: at(25, 5), Wait: 10 * time.Minute},
			{Kind: KindSend, ID: "reviewed", Pos: at(26, 5), Send: &Send{
				Message: "applicantReviewed", ReviewAnswer: "RED", RejectType: "FINAL",
				RejectLabels: []string{"FORGERY", "SELFIE_MISMATCH"},
				Set: []Override{
					{Path: "reviewResult.moderationComment", Value: "Suspected forgery.", Pos: at(32, 7)},
					{Path: "levelName", Value: "basic-kyc-level", Pos: at(33, 7)},
				},
				Unset:    []string{"externalUserId"},
				Sign:     Signing{Algorithm: "HMAC_SHA512_HEX"},
				Delivery: Delivery{Retry: true},
				Expect:   &Answer{Status: "2xx", Pos: at(37, 13)}}},
			{Kind: KindSend, Name: "a tampered copy is refused", Pos: at(38, 5), Send: &Send{
				Message: "applicantReviewed", Sign: Signing{Digest: DigestTampered},
				Expect: &Answer{Status: "4xx", Pos: at(41, 13)}}},
			{Kind: KindSend, Name: "a wrong secret is refused", Pos: at(42, 5), Send: &Send{
				Message: "applicantReviewed",
				Sign:    Signing{Secret: ptr("not-the-secret"), Algorithm: "HMAC_SHA1_HEX", AlgorithmHeader: ptr("HMAC_SHA1_HEX")},
				Expect:  &Answer{Status: "4xx", Attempts: 1, Pos: at(45, 13)}}},
			{Kind: KindSend, Name: "a body that is not JSON is refused", Pos: at(46, 5), Send: &Send{
				Message: "applicantReviewed", RawBody: ptr(`{"applicantId": "${subject}", `),
				Delivery: Delivery{ContentType: "text/plain"},
				Expect:   &Answer{Status: "4xx", Pos: at(50, 13)}}},
			{Kind: KindRedeliver, Pos: at(51, 5), Redeliver: &Redeliver{
				Step: "reviewed", Restamp: true,
				Delivery: &Delivery{Headers: []Header{{"X-Redelivery", "1"}}},
				Expect:   &Answer{Status: "2xx", Pos: at(54, 13)}}},
			{Kind: KindParallel, Pos: at(55, 5), Parallel: []Step{
				{Kind: KindRedeliver, Pos: at(56, 9), Redeliver: &Redeliver{Step: "pending", Expect: &Answer{Status: "2xx", Pos: at(57, 17)}}},
				{Kind: KindSend, Name: "a stale event arrives late", Pos: at(58, 9), Send: &Send{
					Message: "applicantPending", Age: 20 * time.Minute, Expect: &Answer{Status: "2xx", Pos: at(61, 17)}}},
			}},
			{Kind: KindParallel, Pos: at(62, 5), Parallel: []Step{
				{Kind: KindRedeliver, Pos: at(62, 15), Redeliver: reviewed},
				{Kind: KindRedeliver, Pos: at(62, 15), Redeliver: reviewed},
				{Kind: KindRedeliver, Pos: at(62, 15), Redeliver: reviewed},
			}},
			{Kind: KindSend, Pos: at(63, 5), Send: &Send{
				Message: "applicantCreated", Subject: "${other}",
				Delivery: Delivery{Retry: true, Delays: []time.Duration{30 * time.Second, time.Minute}},
				Expect:   &Answer{Status: "200", Attempts: 1, Pos: at(66, 13)}}},
			{Kind: KindExpect, Pos: at(67, 5), Expect: &Effects{
				Events: ptr(4), Status: ptr("completed/RED"), Within: 3 * time.Second, Pos: at(67, 13)}},
			{Kind: KindExpect, Pos: at(68, 5), Expect: &Effects{
				Subject: "${other}", Events: ptr(1), Status: ptr("init"), Pos: at(68, 13)}},
			{Kind: KindExpect, Pos: at(69, 5), Expect: &Effects{
				Subject: "never-sent", Events: ptr(0), Status: ptr("null"), Pos: at(69, 13)}},
		},
	}
	compareScenarios(t, want, sc)

	h := newHarness(t, receiver.Config{})
	res := Run(context.Background(), sc, h.opt)
	for _, st := range res.Steps {
		for _, f := range st.Failures {
			t.Errorf("step %d %s: %s", st.Index, st.Label, f)
		}
		for _, k := range st.Skipped {
			t.Errorf("step %d %s skipped: %s", st.Index, st.Label, k)
		}
	}
}

// compareScenarios reports every field that differs, step by step.
func compareScenarios(t *testing.T, want, got *Scenario) {
	t.Helper()
	head := func(s *Scenario) Scenario { c := *s; c.Steps = nil; return c }
	if w, g := head(want), head(got); !reflect.DeepEqual(w, g) {
		t.Errorf("scenario header:\n got %s\nwant %s", pretty(g), pretty(w))
	}
	if len(got.Steps) != len(want.Steps) {
		t.Fatalf("%d steps, want %d", len(got.Steps), len(want.Steps))
	}
	for i := range want.Steps {
		if !reflect.DeepEqual(want.Steps[i], got.Steps[i]) {
			t.Errorf("step %d:\n got %s\nwant %s", i+1, pretty(got.Steps[i]), pretty(want.Steps[i]))
		}
	}
}

// TestLoadJumioOptions covers the options the Sumsub example cannot
// show: Jumio precision and reject codes, the KYX vendor state, a
// conformance case, merge keys and YAML numbers in set.
func TestLoadJumioOptions(t *testing.T) {
	cat := catalog(t)
	t.Run("kyx", func(t *testing.T) {
		const src = `product: jumio-kyx
description: Jumio options.
case: {id: jumio-kyx.accept.options, level: SHOULD, rule: Be liberal., source: Jumio docs}
steps:
  - vendor-state: {decision: REJECTED, risk-score: -1, label: TAMPERED, capabilities: {liveness: [{decision: {type: PASSED}}]}}
  - send: processed
    <<: &fast {precision: 0, expect: {status: 2xx, within: 1s}}
    set: {workflowExecution.id: "${subject}"}
    set-unknown: {a.n: 0x1F, a.f: 1.50, a.u: 1_000, a.d: 2024-01-31, a.z: ~, a.b: true}
  - {send: PROCESSED, <<: *fast, precision: 1}
`
		sc, err := Load("kyx.yaml", []byte(src), cat)
		if err != nil {
			t.Fatal(err)
		}
		if sc.Case == nil || *sc.Case != (Case{ID: "jumio-kyx.accept.options", Level: "SHOULD", Rule: "Be liberal.", Source: "Jumio docs"}) {
			t.Errorf("case: %+v", sc.Case)
		}
		vs := sc.Steps[0].VendorState
		wantVS := &VendorState{Decision: "REJECTED", RiskScore: ptr(-1), Label: "TAMPERED",
			Capability: map[string]any{"liveness": []any{map[string]any{"decision": map[string]any{"type": "PASSED"}}}}}
		if !reflect.DeepEqual(vs, wantVS) {
			t.Errorf("vendor state:\n got %s\nwant %s", pretty(vs), pretty(wantVS))
		}
		s := sc.Steps[1].Send
		if s.Message != "PROCESSED" {
			t.Errorf("message %q, want the canonical PROCESSED", s.Message)
		}
		if s.Precision == nil || *s.Precision != 0 || s.Expect == nil || s.Expect.Status != "2xx" || s.Expect.Within != time.Second {
			t.Errorf("merged keys: precision %v, expect %+v", s.Precision, s.Expect)
		}
		if s := sc.Steps[2].Send; s.Precision == nil || *s.Precision != 1 || s.Expect == nil || s.Expect.Within != time.Second {
			t.Errorf("a key of the step wins over a merged one: precision %v, expect %+v", s.Precision, s.Expect)
		}
		var got []string
		for _, o := range s.Set {
			got = append(got, o.Path+"="+pretty(o.Value))
		}
		want := []string{`workflowExecution.id="${subject}"`, "a.n=31", "a.f=1.50", "a.u=1000", `a.d="2024-01-31"`, "a.z=null", "a.b=true"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("set:\n got %q\nwant %q", got, want)
		}
		if _, ok := s.Set[1].Value.(json.Number); !ok {
			t.Errorf("a number is %T, want json.Number", s.Set[1].Value)
		}
	})
	t.Run("netverify", func(t *testing.T) {
		const src = `product: jumio-netverify
description: Netverify options.
steps:
  - {send: DENIED_FRAUD, reject-code: "100", precision: 2}
`
		sc, err := Load("nv.yaml", []byte(src), cat)
		if err != nil {
			t.Fatal(err)
		}
		if s := sc.Steps[0].Send; s.RejectCode != "100" || *s.Precision != 2 {
			t.Errorf("send: %+v", s)
		}
	})
}

// TestLoadOverridePaths covers override paths that load: into JSON-in-form
// fields, a field only one alternative of a message variable has, a path
// with a reference (checked when it runs), and set-unknown after set.
func TestLoadOverridePaths(t *testing.T) {
	cat := catalog(t)
	for name, src := range map[string]string{
		"netverify": `product: jumio-netverify
description: Paths into JSON-in-form fields and a field of one alternative.
vars:
  message: {handled: [APPROVED_VERIFIED, DENIED_FRAUD]}
  field: {generate: digits}
steps:
  - send: APPROVED_VERIFIED
    set: {identityVerification.validity: "FALSE", identityVerification.reason: LIVENESS_FAILED, /idAddress/country: DEU}
    unset: [livenessImages, dlCategories.0]
  - send: "${message}"
    set: {rejectReason.rejectReasonCode: "105", "${field}": x}
    unset: [identityVerification]
  - {send: DENIED_FRAUD, reject-code: "111"}
`,
		"docverify": `product: jumio-docverify
description: A path into the document.
steps:
  - send: EXTRACTED
    set: {document.status: DISCARDED, document.extractedData.signatureAvailable: false}
`,
		"sumsub": `product: sumsub
description: set-unknown goes after set.
steps:
  - send: applicantReviewed
    set-unknown: {someNewField: 2, reviewResult.newThing: 3}
    set: {reviewResult.reviewAnswer: GREEN, sourceKey: eu}
`,
	} {
		t.Run(name, func(t *testing.T) {
			sc, err := Load(name+".yaml", []byte(src), cat)
			if err != nil {
				t.Fatal(err)
			}
			if name != "sumsub" {
				return
			}
			var got []string
			for _, o := range sc.Steps[0].Send.Set {
				got = append(got, o.Path)
			}
			if want := []string{"reviewResult.reviewAnswer", "sourceKey", "someNewField", "reviewResult.newThing"}; !reflect.DeepEqual(got, want) {
				t.Errorf("set paths %q, want %q", got, want)
			}
		})
	}
}

// TestLoadErrors checks each kind of invalid file against its golden
// error (go test ./scenarios -run TestLoadErrors -update rewrites them).
func TestLoadErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 25 {
		t.Fatalf("only %d error cases", len(files))
	}
	cat := catalog(t)
	seen := map[string]string{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Load(f, data, cat)
			if err == nil {
				t.Fatal("loaded without error")
			}
			if !IsLoadError(err) {
				t.Errorf("%T is not a load error", err)
			}
			got := err.Error() + "\n"
			if !strings.HasPrefix(got, f+":") {
				t.Errorf("the error does not start with the file name: %s", got)
			}
			msg := strings.TrimPrefix(got, f)
			if other, dup := seen[msg]; dup {
				t.Errorf("the same error as %s: the case tests nothing new", other)
			}
			seen[msg] = f
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("(-want +got)\n-%s+%s", want, got)
			}
		})
	}
}

// fixedClock is a scenario clock that never moves: waits end at once.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

func (c fixedClock) Sleep(ctx context.Context, d time.Duration) error { return ctx.Err() }

// recorder is a receiver that keeps the bodies it got and answers 200.
type recorder struct {
	mu     sync.Mutex
	bodies []string
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.bodies = append(rc.bodies, string(b))
	rc.mu.Unlock()
}

// TestRunSeed checks that a seed and a fixed clock play the same bytes
// (generated subjects, values and variants included, concurrent sends
// too), and that another seed, or none, does not.
func TestRunSeed(t *testing.T) {
	cat := catalog(t)
	const src = `product: jumio-netverify
name: seed/netverify
description: Generated values follow the seed.
vars:
  other: {generate: scan-reference}
steps:
  - send: APPROVED_VERIFIED
  - send: DENIED_FRAUD
    subject: ${other}
  - parallel: {count: 3, send: ERROR_NOT_READABLE_ID}
  - wait: 1h
  - send: NO_ID_UPLOADED
`
	sc, err := Load("seed.yaml", []byte(src), cat)
	if err != nil {
		t.Fatal(err)
	}
	play := func(seed *uint64) []string {
		rec := &recorder{}
		srv := httptest.NewServer(rec)
		defer srv.Close()
		d := delivery.NewDispatcher(fixedClock{time.Date(2026, 5, 30, 12, 0, 0, 123456789, time.UTC)}, delivery.NewLog(nil))
		defer d.Close()
		res := Run(context.Background(), sc, Options{Catalog: cat, URLs: map[string]string{sc.Product: srv.URL}, Dispatcher: d, VendorBase: "http://127.0.0.1:8089", Seed: seed})
		if !res.Passed {
			t.Fatalf("run failed: %s", pretty(res))
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if len(rec.bodies) != 6 {
			t.Fatalf("%d bodies, want 6", len(rec.bodies))
		}
		// The parallel sends arrive in any order.
		slices.Sort(rec.bodies[2:5])
		return slices.Clone(rec.bodies)
	}
	a, b := play(ptr(uint64(7))), play(ptr(uint64(7)))
	if !reflect.DeepEqual(a, b) {
		t.Errorf("seed 7 played different bodies:\n%s\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	if len(slices.Compact(slices.Clone(a[2:5]))) != 3 {
		t.Errorf("the concurrent sends of one step are alike: %q", a[2:5])
	}
	for name, other := range map[string][]string{"seed 8": play(ptr(uint64(8))), "no seed": play(nil)} {
		for i := range a {
			if a[i] == other[i] {
				t.Errorf("%s played body %d as seed 7 did: %s", name, i, a[i])
			}
		}
	}
}
