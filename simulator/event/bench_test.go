package event

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkBuild measures building an event and rendering its body, per
// product (one representative message each).
func BenchmarkBuild(b *testing.B) {
	cat := testCatalog(b)
	for _, tg := range [][2]string{
		{"jumio-kyx", "PROCESSED"},
		{"jumio-netverify", "APPROVED_VERIFIED"},
		{"jumio-auth", "PASSED"},
		{"jumio-docverify", "EXTRACTED"},
		{"sumsub", "applicantReviewed"},
	} {
		b.Run(tg[0]+"/"+tg[1], func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			for b.Loop() {
				e, err := Build(cat, tg[0], tg[1], Options{Rand: r, Now: fixedNow})
				if err != nil {
					b.Fatal(err)
				}
				if len(e.Body()) == 0 {
					b.Fatal("empty body")
				}
			}
		})
	}
}

// BenchmarkSet measures one override on a built event.
func BenchmarkSet(b *testing.B) {
	cat := testCatalog(b)
	e, err := Build(cat, "jumio-netverify", "DENIED_FRAUD", Options{Rand: rand.New(rand.NewPCG(1, 2)), Now: fixedNow})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Set("rejectReason.rejectReasonCode", `"105"`); err != nil {
			b.Fatal(err)
		}
	}
}
