package load

import (
	"encoding/json"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kycsim/kycsim/simulator/event"
	"github.com/kycsim/kycsim/spec"
	"github.com/kycsim/kycsim/spec/format"
)

func catalog(t testing.TB) *spec.Catalog {
	t.Helper()
	cat, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// testSender is a sender without a client, for filling templates.
func testSender(tmpl, stale *Template, seed uint64) *Sender {
	return &Sender{tmpl: tmpl, stale: stale, rng: rand.New(rand.NewPCG(seed, seed+1))}
}

// TestTemplatesMakeValidUniqueCallbacks fills the template of every
// message of every product many times, at several times of day, and
// checks that every body passes the catalog at level vendor, names a new
// subject, and carries the fill's timestamps.
func TestTemplatesMakeValidUniqueCallbacks(t *testing.T) {
	cat := catalog(t)
	for _, p := range cat.Products() {
		for _, msg := range p.MessageNames() {
			tmpl, err := NewTemplate(cat, p.Name, msg, TemplateOptions{})
			if err != nil {
				t.Errorf("%s %s: %v", p.Name, msg, err)
				continue
			}
			s := testSender(tmpl, nil, 7)
			seen := map[string]bool{}
			base := time.Date(2031, 12, 31, 23, 59, 59, 999e6, time.UTC)
			for i := range 12 {
				var f Fill
				s.fresh(&f, base.Add(time.Duration(i)*37*time.Minute+time.Duration(i)*time.Millisecond))
				body := tmpl.Append(nil, f)
				if len(body) != tmpl.Size() {
					t.Errorf("%s %s: body of %d bytes, template says %d", p.Name, msg, len(body), tmpl.Size())
				}
				res, err := p.Validate(body, spec.Options{Level: spec.LevelVendor, Message: msg})
				if err != nil {
					t.Fatalf("%s %s: %v", p.Name, msg, err)
				}
				if !res.Valid() {
					t.Errorf("%s %s: fill %d is not valid at level vendor: %v\n%s", p.Name, msg, i, res.Violations, body)
				}
				subject := f.SubjectString()
				if seen[subject] {
					t.Errorf("%s %s: subject %s twice", p.Name, msg, subject)
				}
				seen[subject] = true
				if !strings.Contains(string(body), subject) {
					t.Errorf("%s %s: the body does not carry the subject %s", p.Name, msg, subject)
				}
			}
		}
	}
}

// TestTemplateFillsTimestamps checks that the event time reaches the
// body in the product's own format.
func TestTemplateFillsTimestamps(t *testing.T) {
	cat := catalog(t)
	at := time.Date(2030, 1, 2, 3, 4, 5, 678e6, time.UTC)
	for _, tt := range []struct {
		product, message, want string
	}{
		{"sumsub", "applicantReviewed", `"createdAtMs":"` + format.FormatSumsubCreatedAtMs(at) + `"`},
		{"sumsub", "applicantWorkflowCompleted", `"createdAt":"` + format.FormatSumsubCreatedAt(at) + `"`},
		{"jumio-kyx", "PROCESSED", `"callbackSentAt":"` + format.FormatJumioTimestamp(at, 3) + `"`},
		{"jumio-netverify", "APPROVED_VERIFIED", "callbackDate=" + url.QueryEscape(format.FormatJumioTimestamp(at, 3))},
	} {
		tmpl, err := NewTemplate(cat, tt.product, tt.message, TemplateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var f Fill
		testSender(tmpl, nil, 1).fresh(&f, at)
		if body := string(tmpl.Append(nil, f)); !strings.Contains(body, tt.want) {
			t.Errorf("%s %s: no %s in\n%s", tt.product, tt.message, tt.want, body)
		}
	}
}

// TestTemplateOptions builds templates with each precision and sandbox
// form and checks they are kept.
func TestTemplateOptions(t *testing.T) {
	cat := catalog(t)
	for digits := range 4 {
		tmpl, err := NewTemplate(cat, "jumio-kyx", "PROCESSED", TemplateOptions{Precision: &digits})
		if err != nil {
			t.Fatal(err)
		}
		var f Fill
		at := time.Date(2030, 1, 2, 3, 4, 5, 678e6, time.UTC)
		testSender(tmpl, nil, 1).fresh(&f, at)
		if want := format.FormatJumioTimestamp(at, digits); !strings.Contains(string(tmpl.Append(nil, f)), `"`+want+`"`) {
			t.Errorf("precision %d: no %s", digits, want)
		}
	}
	tmpl, err := NewTemplate(cat, "sumsub", "applicantPending", TemplateOptions{SandboxMode: "string"})
	if err != nil {
		t.Fatal(err)
	}
	var f Fill
	testSender(tmpl, nil, 1).fresh(&f, time.Now())
	if body := string(tmpl.Append(nil, f)); !strings.Contains(body, `"sandboxMode":"false"`) {
		t.Errorf("sandbox mode string: %s", body)
	}
	if _, err := NewTemplate(cat, "sumsub", "applicantReviewed", TemplateOptions{Precision: new(int)}); err == nil {
		t.Error("a precision for Sumsub was accepted")
	}
	if _, err := NewTemplate(cat, "sumsub", "noSuchType", TemplateOptions{}); err == nil {
		t.Error("an unknown message was accepted")
	}
}

// TestStaleTemplates checks that every message's stale companion builds,
// has the same kind of subject, and that a stale event of an answered
// one is valid, names its subject and is dated StaleAge earlier.
func TestStaleTemplates(t *testing.T) {
	cat := catalog(t)
	for _, p := range cat.Products() {
		for _, msg := range p.MessageNames() {
			stale := StaleMessage(p.Name, msg)
			if stale == "" {
				if p.Name == "sumsub" || (p.Name == "jumio-kyx" && msg != "ACQUISITION_STARTED") {
					t.Errorf("%s %s has no stale message", p.Name, msg)
				}
				continue
			}
			if _, err := p.Message(stale); err != nil {
				t.Errorf("%s %s: stale message %s: %v", p.Name, msg, stale, err)
				continue
			}
			main, err := NewTemplate(cat, p.Name, msg, TemplateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			st, err := NewTemplate(cat, p.Name, stale, TemplateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if main.subject != st.subject {
				t.Errorf("%s %s: the stale %s has another subject shape", p.Name, msg, stale)
			}
		}
	}
	for product, m := range staleMessages {
		for msg := range m {
			if _, err := NewTemplate(cat, product, msg, TemplateOptions{}); err != nil {
				t.Errorf("staleMessages names %s %s: %v", product, msg, err)
			}
		}
	}
}

// TestTimeFormatsMatchTheFormatPackage compares the append formatters
// with the format package's, on random times.
func TestTimeFormatsMatchTheFormatPackage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		tm := time.Unix(r.Int64N(253402300799), r.Int64N(1e9)).UTC()
		for digits := range 4 {
			if got, want := string(appendJumioTime(nil, tm, digits)), format.FormatJumioTimestamp(tm, digits); got != want {
				t.Fatalf("jumio %d digits: %s, want %s", digits, got, want)
			}
		}
		if got, want := string(appendSumsubMillis(nil, tm)), format.FormatSumsubCreatedAtMs(tm); got != want {
			t.Fatalf("sumsub ms: %s, want %s", got, want)
		}
		if got, want := string(appendSumsubTime(nil, tm)), format.FormatSumsubCreatedAt(tm); got != want {
			t.Fatalf("sumsub createdAt: %s, want %s", got, want)
		}
	}
}

func TestAppendQueryEscapedMatchesQueryEscape(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		if got, want := string(appendQueryEscaped(nil, b)), url.QueryEscape(string(b)); got != want {
			t.Fatalf("%q: %s, want %s", b, got, want)
		}
	}
}

func TestNextObjectID(t *testing.T) {
	for in, want := range map[string]string{
		"5cb56e8e0a975a35f333cb83": "5cb56e8e0a975a35f333cb84",
		"5cb56e8e0a975a35f333cb89": "5cb56e8e0a975a35f333cb8a",
		"5cb56e8e0a975a35f333cbff": "5cb56e8e0a975a35f333cc00",
	} {
		var got [24]byte
		nextObjectID(got[:], []byte(in))
		if string(got[:]) != want {
			t.Errorf("next(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestFillAllocatesNothing checks that filling a template into a buffer
// with room allocates nothing.
func TestFillAllocatesNothing(t *testing.T) {
	cat := catalog(t)
	for _, pm := range [][2]string{{"sumsub", "applicantReviewed"}, {"jumio-netverify", "APPROVED_VERIFIED"}} {
		tmpl, err := NewTemplate(cat, pm[0], pm[1], TemplateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s := testSender(tmpl, nil, 1)
		buf := make([]byte, 0, tmpl.Size())
		now := time.Now()
		if n := testing.AllocsPerRun(200, func() {
			var f Fill
			s.fresh(&f, now)
			buf = tmpl.Append(buf[:0], f)
		}); n != 0 {
			t.Errorf("%s %s: %.1f allocations per fill", pm[0], pm[1], n)
		}
	}
}

// TestTemplateCorrelationForms splits events whose correlationId takes
// each form Sumsub sends ("req-" and a UUID, a bare UUID, 32 hex
// digits): each fill gets a new one, in the same form.
func TestTemplateCorrelationForms(t *testing.T) {
	cat := catalog(t)
	p, err := cat.Product("sumsub")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, form := range []string{"req-3f2c8a1e-9b7d-4c1a-8e2f-0a1b2c3d4e5f", "3f2c8a1e-9b7d-4c1a-8e2f-0a1b2c3d4e5f", "3f2c8a1e9b7d4c1a8e2f0a1b2c3d4e5f"} {
		ev, err := event.Build(cat, "sumsub", "applicantActionReviewed", event.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if err := ev.Set("correlationId", form); err != nil {
			t.Fatal(err)
		}
		tmpl, own, err := split(ev, now)
		if err != nil {
			t.Fatal(err)
		}
		if got := tmpl.Append(nil, own); string(got) != string(ev.Body()) {
			t.Fatalf("%s: the event's own fill gives\n%s\nwant\n%s", form, got, ev.Body())
		}
		var f Fill
		testSender(tmpl, nil, 9).fresh(&f, now)
		body := tmpl.Append(nil, f)
		var v struct{ CorrelationID, ApplicantActionID string }
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		if v.CorrelationID == form || len(v.CorrelationID) != len(form) || v.CorrelationID[:4] == "req-" != (form[:4] == "req-") {
			t.Errorf("%s: filled %s", form, v.CorrelationID)
		}
		if old, _ := ev.Get("applicantActionId"); v.ApplicantActionID == old || !isHex(v.ApplicantActionID, 24) {
			t.Errorf("applicantActionId %s (was %v)", v.ApplicantActionID, old)
		}
		if res, err := p.Validate(body, spec.Options{Level: spec.LevelVendor}); err != nil || !res.Valid() {
			t.Errorf("%s: %v %v\n%s", form, err, res.Violations, body)
		}
	}
}
