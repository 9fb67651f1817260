package event

import (
	"fmt"
	"testing"
	"time"
)

// TestIdentityPerSubject builds every message of every product twice
// about one subject, with different sources of generated values and
// clocks an hour apart, and checks that the identity fields and the
// variants agree; and that another identity gives other references.
func TestIdentityPerSubject(t *testing.T) {
	cat := testCatalog(t)
	subjects := map[string]string{
		"sumsub": "64106d6b7d5a2d5159e6b0ff", "jumio-kyx": "22222222-3333-4444-5555-666666666666",
		"jumio-netverify": "scan-ref-1", "jumio-auth": "auth-ref-1", "jumio-docverify": "doc-ref-1",
	}
	for _, p := range cat.Products() {
		for _, m := range p.MessageNames() {
			t.Run(p.Name+"/"+m, func(t *testing.T) {
				build := func(seed uint64, ident *uint64, now time.Time) *Event {
					e, err := Build(cat, p.Name, m, Options{Subject: subjects[p.Name], Rand: NewRand(seed), Identity: ident, Now: now})
					if err != nil {
						t.Fatal(err)
					}
					return e
				}
				a, b := build(1, nil, fixedNow), build(2, nil, fixedNow.Add(time.Hour))
				for _, path := range IdentityFields[p.Name] {
					va, ea := a.Get(path)
					vb, eb := b.Get(path)
					if (ea == nil) != (eb == nil) || fmt.Sprint(va) != fmt.Sprint(vb) {
						t.Errorf("%s: %v (%v) in one event, %v (%v) in the other", path, va, ea, vb, eb)
					}
				}
				if fmt.Sprint(a.variants) != fmt.Sprint(b.variants) && p.Name != "jumio-netverify" {
					t.Errorf("variants %v and %v", a.variants, b.variants)
				}
				for _, point := range []string{"netverify.customerId", "netverify.firstAttemptDate", "sumsub.correlationId"} {
					if a.variants[point] != b.variants[point] {
						t.Errorf("%s: %s and %s", point, a.variants[point], b.variants[point])
					}
				}
				// Another identity: other references (the odds of a
				// collision are negligible for these).
				one, two := uint64(1), uint64(2)
				c, d := build(1, &one, fixedNow), build(1, &two, fixedNow)
				for _, path := range []string{"externalUserId", "account.id", "merchantIdScanReference", "enrollmentTransactionReference", "transaction.merchantScanReference"} {
					vc, err := c.Get(path)
					if err != nil {
						continue
					}
					if vd, _ := d.Get(path); fmt.Sprint(vc) == fmt.Sprint(vd) {
						t.Errorf("%s: identities 1 and 2 both give %v", path, vc)
					}
				}
			})
		}
	}
}

// TestVariantsExplained checks that every value of every choice point
// but the usual one says why it is realistic.
func TestVariantsExplained(t *testing.T) {
	for point, info := range choicePoints {
		for _, v := range info.values[1:] {
			if info.why[v] == "" {
				t.Errorf("%s=%s: no reason why real callbacks come this way", point, v)
			}
		}
	}
	e := &Event{variants: map[string]string{"netverify.customerId": "absent", "sumsub.correlationId": "hex", "unknown.point": "x"}}
	got := e.Variants()
	if len(got) != 1 || got[0].Point != "netverify.customerId" || got[0].Why == "" {
		t.Errorf("Variants() = %v; want only netverify.customerId=absent, with why", got)
	}
}
