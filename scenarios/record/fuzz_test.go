package record

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/spec"
)

// FuzzMaskRender: any body a vendor (or anyone) posts is masked without
// panic into valid UTF-8, the same way twice, and stored as a scenario
// file that loads, whose raw body expands back to the masked body.
func FuzzMaskRender(f *testing.F) {
	f.Add([]byte(`{"applicantId":"5cb744200a975a67ed1798a4","type":"applicantReviewed","reviewResult":{"moderationComment":"${x} $ {"}}`), false)
	f.Add([]byte(`{"callbackSentAt":"2026-05-30T12:00:00.987Z","workflowExecution":{"id":"9495cc88-f6e2-4cc2-9ab4-c9e78d665670","href":"https://x.example/a/9495cc88-f6e2-4cc2-9ab4-c9e78d665670?t=1"}}`), false)
	f.Add([]byte("idFirstName=ZQ&idAddress=%7B%22city%22%3A%22Z%22%7D&jumioIdScanReference=abc-123456&idScanImage=https%3A%2F%2Fx%2Fa%2Fabc-123456"), true)
	f.Add([]byte(`{"applicantId":"a1","inspectionId":"a1","type":"applicantCreated","createdAtMs":"2026-05-30 12:00:00.001"}`), false)
	f.Add([]byte("\xff\xfe{\"a\":\"\u2028\"}\r\n"), false)
	cat, err := spec.Default()
	if err != nil {
		f.Fatal(err)
	}
	products := map[bool]string{false: "sumsub", true: "jumio-netverify"}
	maskers := map[bool]*Masker{}
	for k, name := range products {
		p, _ := cat.Product(name)
		rules, err := spec.MaskRules(name)
		if err != nil {
			f.Fatal(err)
		}
		maskers[k] = NewMasker(p, rules, []byte("fuzz-key-0123456789"))
	}
	f.Fuzz(func(t *testing.T, body []byte, formProduct bool) {
		if len(body) > 64<<10 {
			return
		}
		m := maskers[formProduct]
		out, _ := m.Mask(body)
		again, _ := m.Mask(body)
		if string(out.Body) != string(again.Body) {
			t.Fatalf("masked two ways: %q, %q", out.Body, again.Body)
		}
		if !utf8.Valid(out.Body) {
			t.Fatalf("masked body is not UTF-8: %q", out.Body)
		}
		product := products[formProduct]
		s := &session{file: "f.yaml", product: product, subject: out.Subject, start: time.Unix(1, 0), vars: map[string]bool{}}
		p, _ := cat.Product(product)
		s.list = []*exchange{{n: 1, arrival: time.Unix(1, 0), sendAs: p.MessageNames()[0], body: string(out.Body), status: 200}}
		data, err := s.render(false)
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		sc, err := scenarios.Load("f.yaml", data, cat)
		if err != nil {
			t.Fatalf("the scenario does not load: %v\n%s", err, data)
		}
		raw := *sc.Steps[0].Send.RawBody
		expanded := strings.NewReplacer("${subject}", out.Subject, "${vendor-base}", VendorBase, "${dollar}", "$").Replace(raw)
		if !formProduct && expanded != string(out.Body) {
			t.Fatalf("raw body %q expands to %q, not the masked body %q", raw, expanded, out.Body)
		}
	})
}
