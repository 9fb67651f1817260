package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kycsim/kycsim/simulator/event"
	"github.com/kycsim/kycsim/spec"
	"github.com/kycsim/kycsim/spec/form"
	"github.com/kycsim/kycsim/spec/maskrule"
)

// seeded are personal data planted in the callbacks of each product,
// each at a field the vendor's document names: none of them may survive
// masking. The values are unlikely to come out of the masker by chance.
var seeded = map[string]map[string]string{
	"sumsub": {
		"applicantId":                    "5cb744200a975a67ed1798a4",
		"externalUserId":                 "zephyrina.quonsett@mailhost.example",
		"inspectionId":                   "5cb744200a975a67ed1798ff",
		"reviewResult.moderationComment": "Zephyrina Quonsett uploaded a forged passport",
		"reviewResult.clientComment":     "Call Zephyrina on +44 7700 900123",
	},
	"jumio-kyx": {
		"workflowExecution.id": "3e3c9a5b-9a71-4c71-8f9e-51ab66f1c0de",
		"account.id":           "7d0b8f6e-2f1a-4e7b-9c3d-6a5b4c3d2e1f",
		"userReference":        "zephyrina.quonsett@mailhost.example",
	},
	"jumio-netverify": {
		"jumioIdScanReference":    "3e3c9a5b-9a71-4c71-8f9e-51ab66f1c0de",
		"idFirstName":             "ZEPHYRINA",
		"idLastName":              "QUONSETT",
		"idDob":                   "1961-07-23",
		"idNumber":                "X98765432Q",
		"clientIp":                "10.77.66.55",
		"customerId":              "customer-zq-778899",
		"merchantIdScanReference": "scan-zq-445566",
		"idScanImage":             "https://netverify.example/recognition/v1/idscan/3e3c9a5b-9a71-4c71-8f9e-51ab66f1c0de/front?token=zqsecret998877",
	},
	"jumio-auth": {
		"transactionReference":           "3e3c9a5b-9a71-4c71-8f9e-51ab66f1c0de",
		"enrollmentTransactionReference": "7d0b8f6e-2f1a-4e7b-9c3d-6a5b4c3d2e1f",
	},
	"jumio-docverify": {
		"scanReference":                     "3e3c9a5b-9a71-4c71-8f9e-51ab66f1c0de",
		"transaction.clientIp":              "10.77.66.55",
		"transaction.customerId":            "customer-zq-778899",
		"transaction.merchantScanReference": "scan-zq-445566",
	},
}

// seededJSON are values set into JSON-in-form fields and nested
// objects, as JSON text.
var seededJSON = map[string]map[string]string{
	"jumio-netverify": {
		"idAddress": `{"line1":"77 Wisteria Quonsett Lane","city":"Zephyrville","postalCode":"ZQ7 7QZ","country":"ESP","formattedAddress":"77 Wisteria Quonsett Lane, Zephyrville"}`,
	},
	"jumio-docverify": {
		"document.extractedData": `{"firstName":"ZEPHYRINA","lastName":"QUONSETT","ssn":"987654321","address":{"line1":"77 Wisteria Quonsett Lane","city":"Zephyrville","countryCode":"ESP"}}`,
	},
}

// leaks lists the planted values (and their telling parts) found in data,
// in any case, percent-encoded or JSON-escaped.
func leaks(data []byte, values []string) []string {
	var out []string
	hay := strings.ToLower(string(data))
	unesc, err := url.QueryUnescape(string(data))
	if err == nil {
		hay += "\n" + strings.ToLower(unesc)
	}
	for _, v := range values {
		for _, part := range telling(v) {
			p := strings.ToLower(part)
			if strings.Contains(hay, p) || strings.Contains(hay, strings.ToLower(url.QueryEscape(part))) {
				out = append(out, part)
			}
		}
	}
	return out
}

// telling splits a planted value into the parts that identify a person:
// the whole value, its runs of 5 or more digits, the words of 5 or more
// letters of a value that has several words (a name, an address, a
// comment), and the planted host and token of a URL.
func telling(v string) []string {
	out := []string{v}
	out = append(out, regexp.MustCompile(`[0-9]{5,}`).FindAllString(v, -1)...)
	if strings.Contains(v, " ") {
		out = append(out, regexp.MustCompile(`[A-Za-z]{5,}`).FindAllString(v, -1)...)
	}
	for _, w := range []string{"netverify.example", "zqsecret", "mailhost", "zephyrina", "quonsett"} {
		if strings.Contains(strings.ToLower(v), w) {
			out = append(out, w)
		}
	}
	return out
}

// plantedValues lists every planted value of a product.
func plantedValues(product string) []string {
	var out []string
	for _, v := range seeded[product] {
		out = append(out, v)
	}
	for _, v := range seededJSON[product] {
		var x any
		_ = json.Unmarshal([]byte(v), &x)
		var walk func(any)
		walk = func(x any) {
			switch y := x.(type) {
			case map[string]any:
				for k, e := range y {
					if k != "country" && k != "countryCode" { // a country code is 3 letters: too short to tell
						walk(e)
					}
				}
			case string:
				out = append(out, y)
			}
		}
		walk(x)
	}
	return out
}

// plant builds an event of every message of a product with the planted
// values set where the message has the field.
func plant(t *testing.T, cat *spec.Catalog, product, message string, seed uint64) *event.Event {
	t.Helper()
	ev, err := event.Build(cat, product, message, event.Options{Rand: event.NewRand(seed), Now: time.Date(2026, 5, 30, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatalf("build %s %s: %v", product, message, err)
	}
	for path, v := range seeded[product] {
		if _, err := ev.Get(path); err != nil && !strings.Contains(path, ".") {
			continue // the message has no such field
		}
		_ = ev.SetValue(path, v)
	}
	for path, v := range seededJSON[product] {
		if _, err := ev.Get(path); err != nil {
			continue
		}
		if err := ev.Set(path, v); err != nil {
			t.Fatalf("%s %s: set %s: %v", product, message, path, err)
		}
	}
	return ev
}

func testMasker(t *testing.T, cat *spec.Catalog, product string, key string) *Masker {
	t.Helper()
	p, err := cat.Product(product)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := spec.MaskRules(product)
	if err != nil {
		t.Fatal(err)
	}
	return NewMasker(p, rules, []byte(key+"-0123456789abcdef"))
}

// violationKeys lists the (place, rule) of a payload's violations at a
// level.
func violationKeys(t *testing.T, p *spec.Product, body []byte, lv spec.Level) map[string]string {
	t.Helper()
	res, err := p.Validate(body, spec.Options{Level: lv})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, v := range res.Violations {
		out[generalize(v.Place())+" "+v.Rule] = v.String()
	}
	return out
}

// TestMaskEveryMessage masks a callback of every message of every
// product, with personal data planted in it, and checks that none of it
// is left, that the masked payload breaks no rule of the catalog the
// original kept (the masking keeps formats: a date stays a date, a
// country an ISO code), and that the subject is masked as an id.
func TestMaskEveryMessage(t *testing.T) {
	cat, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range cat.Products() {
		t.Run(p.Name, func(t *testing.T) {
			m := testMasker(t, cat, p.Name, "k1")
			planted := plantedValues(p.Name)
			if len(planted) == 0 {
				t.Fatal("no planted values")
			}
			for _, msg := range p.MessageNames() {
				for seed := uint64(1); seed <= 3; seed++ {
					ev := plant(t, cat, p.Name, msg, seed)
					body := ev.Body()
					out, original := m.Mask(body)
					if out.Encoding == "" {
						t.Fatalf("%s seed %d: masked as text as a whole: %s", msg, seed, body)
					}
					if l := leaks(out.Body, planted); len(l) > 0 {
						t.Errorf("%s seed %d: %q left in the masked body %s", msg, seed, l, out.Body)
					}
					if original != ev.Subject || (original != "" && (out.Subject == "" || out.Subject == original)) {
						t.Errorf("%s: subject %q masked as %q (event subject %q)", msg, original, out.Subject, ev.Subject)
					}
					if out.Subject != "" && !bytes.Contains(out.Body, []byte(out.Subject)) {
						t.Errorf("%s: the masked subject %s is not in the body %s", msg, out.Subject, out.Body)
					}
					for _, lv := range spec.Levels {
						before := violationKeys(t, p, body, lv)
						for k, v := range violationKeys(t, p, out.Body, lv) {
							if _, ok := before[k]; !ok {
								t.Errorf("%s seed %d level %s: masking broke a rule: %s\noriginal %s\nmasked   %s", msg, seed, lv, v, body, out.Body)
							}
						}
					}
				}
			}
			if u := m.Unruled(); len(u) > 0 {
				t.Errorf("fields of the catalog's own payloads no rule of spec/data/%s.mask.yaml names: %v", p.Name, u)
			}
		})
	}
}

// TestMaskDeterministic checks that one recording masks a value the same
// way every time and an id the same way in every field and URL, and that
// another recording masks it otherwise.
func TestMaskDeterministic(t *testing.T) {
	cat, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	m1 := testMasker(t, cat, "jumio-kyx", "k1")
	m2 := testMasker(t, cat, "jumio-kyx", "k2")
	body := []byte(`{"callbackSentAt":"2026-05-30T12:00:00.987Z","userReference":"alice@example.org","workflowExecution":{"id":"9495cc88-f6e2-4cc2-9ab4-c9e78d665670","href":"https://retrieval.emea-1.jumio.ai/api/v1/accounts/d8862a41-3a2c-4f9f-a4fd-3ae9789746f8/workflow-executions/9495cc88-f6e2-4cc2-9ab4-c9e78d665670","definitionKey":"10001","status":"PROCESSED"},"account":{"id":"d8862a41-3a2c-4f9f-a4fd-3ae9789746f8","href":"https://account.emea-1.jumio.ai/api/v1/accounts/d8862a41-3a2c-4f9f-a4fd-3ae9789746f8"}}`)
	a, _ := m1.Mask(body)
	b, _ := m1.Mask(body)
	c, _ := m2.Mask(body)
	if !bytes.Equal(a.Body, b.Body) {
		t.Errorf("one masker masked the same body two ways:\n%s\n%s", a.Body, b.Body)
	}
	if bytes.Equal(a.Body, c.Body) {
		t.Errorf("two recordings masked the same body the same way: %s", a.Body)
	}
	var v struct {
		WorkflowExecution struct{ ID, Href, Status string }
		Account           struct{ ID, Href string }
		UserReference     string
	}
	if err := json.Unmarshal(a.Body, &v); err != nil {
		t.Fatal(err)
	}
	wantHref := fmt.Sprintf("%s/api/v1/accounts/%s/workflow-executions/%s", VendorBase, v.Account.ID, v.WorkflowExecution.ID)
	if v.WorkflowExecution.Href != wantHref || v.Account.Href != VendorBase+"/api/v1/accounts/"+v.Account.ID {
		t.Errorf("the ids in the hrefs are not masked as the id fields are:\n%s", a.Body)
	}
	if v.WorkflowExecution.ID == "9495cc88-f6e2-4cc2-9ab4-c9e78d665670" || !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(v.WorkflowExecution.ID) {
		t.Errorf("workflow id masked as %q: want another version-4 UUID", v.WorkflowExecution.ID)
	}
	if v.WorkflowExecution.Status != "PROCESSED" || a.Subject != v.WorkflowExecution.ID {
		t.Errorf("status %q, subject %q: %s", v.WorkflowExecution.Status, a.Subject, a.Body)
	}
	if strings.Contains(v.UserReference, "alice") || len(v.UserReference) != len("alice@example.org") {
		t.Errorf("userReference masked as %q", v.UserReference)
	}
	// A second event of the same applicant keeps its masked ids.
	other := bytes.ReplaceAll(body, []byte("PROCESSED"), []byte("ACQUIRED"))
	d, _ := m1.Mask(other)
	if d.Subject != a.Subject || !bytes.Contains(d.Body, []byte(v.UserReference)) {
		t.Errorf("the same subject masked two ways in one recording: %s vs %s", a.Subject, d.Subject)
	}
}

// TestMaskKinds checks each kind's replacement keeps the value's format.
func TestMaskKinds(t *testing.T) {
	cat, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	m := testMasker(t, cat, "jumio-netverify", "k1")
	for _, tt := range []struct {
		kind, in string
		want     *regexp.Regexp
	}{
		{"date", "1961-07-23", regexp.MustCompile(`^(19|20)\d\d-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$`)},
		{"date", "2099-01-31", regexp.MustCompile(`^20\d\d-\d\d-\d\d$`)},
		{"country", "ESP", regexp.MustCompile(`^[A-Z]{3}$`)},
		{"country", "de", regexp.MustCompile(`^[a-z]{2}$`)},
		{"document-number", "X98765432Q", regexp.MustCompile(`^[A-Z]\d{8}[A-Z]$`)},
		{"ip", "10.77.66.55", regexp.MustCompile(`^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d+$`)},
		{"ip", "2a00:1450::1", regexp.MustCompile(`^2001:db8:`)},
		{"email", "zq@mail.example", regexp.MustCompile(`^user-[0-9a-f]{8}@example\.com$`)},
		{"phone", "+44 7700 900123", regexp.MustCompile(`^\+\d\d \d{4} \d{6}$`)},
		{"name", "ZEPHYRINA QUONSETT", regexp.MustCompile(`^[A-Z]+ [A-Z]+$`)},
		{"text", "Forged, sadly.", regexp.MustCompile(`^[A-Z][a-z]{5}, [a-z]{5}\.$`)},
		{"id", "5cb744200a975a67ed1798a4", regexp.MustCompile(`^[0-9a-f]{24}$`)},
		{"url", "https://lon.netverify.com/api/v4/scans/ab12cd34ef/images/front?x=Secret1", regexp.MustCompile(`^` + regexp.QuoteMeta(VendorBase) + `/api/v4/scans/[0-9a-f]{10}/images/front\?x=[A-Z][a-z]{5}\d$`)},
		{"keep", "APPROVED_VERIFIED", regexp.MustCompile(`^APPROVED_VERIFIED$`)},
	} {
		got := m.String(kindOf(tt.kind), tt.in)
		if !tt.want.MatchString(got) || (tt.kind != "keep" && got == tt.in) {
			t.Errorf("%s %q masked as %q; want %s", tt.kind, tt.in, got, tt.want)
		}
	}
}

// TestMaskUnparsable masks a body that does not decode as a whole, and
// keeps its punctuation.
func TestMaskUnparsable(t *testing.T) {
	cat, _ := spec.Default()
	m := testMasker(t, cat, "sumsub", "k1")
	out, subject := m.Mask([]byte(`{"applicantId": "5cb744200a975a67ed1798a4", "name": "Zephyrina Quonsett"`))
	if out.Encoding != "" || subject != "" || leaks(out.Body, []string{"Zephyrina Quonsett", "5cb744200a975a67ed1798a4"}) != nil {
		t.Errorf("unparsable body masked as %s (encoding %q, subject %q)", out.Body, out.Encoding, subject)
	}
	if got := regexp.MustCompile(`[A-Za-z0-9]`).ReplaceAllString(string(out.Body), "x"); !strings.HasPrefix(got, `{"xxxxxxxxxxx": "xxxx`) {
		t.Errorf("punctuation not kept: %s", out.Body)
	}
	// A form product's form body keeps its field order.
	nv := testMasker(t, cat, "jumio-netverify", "k1")
	out, _ = nv.Mask([]byte("verificationStatus=APPROVED_VERIFIED&idFirstName=ZEPHYRINA&zNew=hello+world"))
	f, err := form.Parse(out.Body)
	if err != nil || len(f.Fields) != 3 || f.Fields[0].Value != "APPROVED_VERIFIED" || f.Fields[2].Name != "zNew" || f.Fields[2].Value == "hello world" {
		t.Errorf("form masked as %s (%v)", out.Body, err)
	}
	if u := nv.Unruled(); len(u) != 1 || u[0] != "/zNew" {
		t.Errorf("unruled fields %v; want [/zNew]", u)
	}
}

func kindOf(s string) maskrule.Kind { return maskrule.Kind(s) }
