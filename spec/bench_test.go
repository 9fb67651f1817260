package spec

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// benchBodies are valid bodies, one a product: the document examples (the
// Netverify one completed with the dates its sample leaves out).
var benchBodies = map[string]string{
	"jumio-kyx":       "testdata/samples/jumio-kyx/processed.json",
	"jumio-netverify": "testdata/mutations/001-netverify-approved-valid.in",
	"jumio-auth":      "testdata/samples/jumio-auth/passed.form",
	"jumio-docverify": "testdata/samples/jumio-docverify/extracted.form",
	"sumsub":          "testdata/samples/sumsub/applicantWorkflowCompleted.json",
}

// benchBreaks turn each valid benchmark body into an invalid one with one
// typical mistake: a value outside its set. The Jumio KYX one breaks the
// discriminator itself, so no message can be told from the payload.
var benchBreaks = map[string][2]string{
	"jumio-kyx":       {`"status": "PROCESSED"`, `"status": "DONE"`},
	"jumio-netverify": {"idType=PASSPORT", "idType=PASSPORTS"},
	"jumio-auth":      {"scanSource=SDK", "scanSource=APP"},
	"jumio-docverify": {"%22status%22%3A%22DONE%22", "%22status%22%3A%22PENDING%22"},
	"sumsub":          {`"reviewStatus": "completed"`, `"reviewStatus": "done"`},
}

func benchBody(b testing.TB, product string) []byte {
	data, err := os.ReadFile(benchBodies[product])
	if err != nil {
		b.Fatal(err)
	}
	// Strip a mutation file's header lines.
	for bytes.HasPrefix(data, []byte("#")) {
		_, rest, _ := bytes.Cut(data, []byte("\n"))
		data = rest
	}
	return data
}

func benchInvalidBody(b testing.TB, product string) []byte {
	body := string(benchBody(b, product))
	br := benchBreaks[product]
	if strings.Count(body, br[0]) != 1 {
		b.Fatalf("%s: the benchmark body holds %q %d times, want once", product, br[0], strings.Count(body, br[0]))
	}
	return []byte(strings.Replace(body, br[0], br[1], 1))
}

// BenchmarkValidate compares, per product and for a valid and an invalid
// body, decoding a body alone with decoding and validating it. The two
// sides alternate op by op in one loop, so drift of the machine hits both
// alike; each op is timed on its own, and the medians are reported with
// their ratio (validate/decode, the cost of a verdict in decodes).
func BenchmarkValidate(b *testing.B) {
	c := mustCatalog(b)
	for _, name := range productOrder {
		p, err := c.Product(name)
		if err != nil {
			b.Fatal(err)
		}
		for _, kind := range []string{"valid", "invalid"} {
			body := benchBody(b, name)
			if kind == "invalid" {
				body = benchInvalidBody(b, name)
			}
			res, err := p.Validate(body, Options{})
			if err != nil {
				b.Fatal(err)
			}
			if res.Valid() != (kind == "valid") {
				b.Fatalf("%s %s benchmark body: valid=%v %v", name, kind, res.Valid(), res.Violations)
			}
			b.Run(name+"/"+kind, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				decode := make([]time.Duration, 0, min(b.N, 1<<20))
				validate := make([]time.Duration, 0, min(b.N, 1<<20))
				for i := 0; i < b.N; i++ {
					t0 := time.Now()
					if pl, _ := p.Decode(body, "", LevelVendor); pl == nil {
						b.Fatal("decode failed")
					}
					t1 := time.Now()
					if r, err := p.Validate(body, Options{}); err != nil || r.Valid() != (kind == "valid") {
						b.Fatal("validate gave another verdict")
					}
					t2 := time.Now()
					if len(decode) < cap(decode) {
						decode = append(decode, t1.Sub(t0))
						validate = append(validate, t2.Sub(t1))
					}
				}
				d, v := median(decode), median(validate)
				b.ReportMetric(float64(d.Nanoseconds()), "decode-ns")
				b.ReportMetric(float64(v.Nanoseconds()), "validate-ns")
				if d > 0 {
					b.ReportMetric(float64(v)/float64(d), "ratio")
				}
			})
		}
	}
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkFirstValidate measures what one validate command pays in
// process: a fresh catalog, the product's document, the schemas its
// payload needs, and the verdict; for an invalid body also the full
// validator's compilation of the schema the payload fails.
func BenchmarkFirstValidate(b *testing.B) {
	for _, name := range productOrder {
		for _, kind := range []string{"valid", "invalid"} {
			body := benchBody(b, name)
			if kind == "invalid" {
				body = benchInvalidBody(b, name)
			}
			b.Run(name+"/"+kind, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					c, err := Load()
					if err != nil {
						b.Fatal(err)
					}
					p, err := c.Product(name)
					if err != nil {
						b.Fatal(err)
					}
					res, err := p.Validate(body, Options{})
					if err != nil || res.Valid() != (kind == "valid") {
						b.Fatalf("validate: %v %v", err, res)
					}
				}
			})
		}
	}
}

// BenchmarkCompileAll measures loading every product and compiling all
// its schemas with the full validator, as tests do.
func BenchmarkCompileAll(b *testing.B) {
	for i := 0; i < b.N; i++ {
		c, err := Load()
		if err != nil {
			b.Fatal(err)
		}
		if err := c.CompileAll(); err != nil {
			b.Fatal(err)
		}
	}
}
