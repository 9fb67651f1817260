package scenarios

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kycsim/kycsim/conformance/receiver"
	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/vendorapi"
	"github.com/kycsim/kycsim/spec"
)

// testTimeScale plays an hour in 36 ms.
const testTimeScale = 0.00001

// harness is the reference receiver and the vendor API mock on loopback.
type harness struct {
	opt Options
}

func newHarness(t *testing.T, cfg receiver.Config) *harness {
	t.Helper()
	cat, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	vendor := vendorapi.New()
	vsrv := httptest.NewServer(vendor)
	cfg.Secret, cfg.Fetch, cfg.FetchHosts = "s3cr3t", true, []string{strings.TrimPrefix(vsrv.URL, "http://")}
	rc, err := receiver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rsrv := httptest.NewServer(rc)
	d := delivery.NewDispatcher(delivery.NewScaledClock(testTimeScale), delivery.NewLog(nil))
	t.Cleanup(func() {
		d.Close()
		rsrv.Close()
		vsrv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rc.Close(ctx)
	})
	urls := map[string]string{}
	for p, path := range receiver.Paths {
		urls[p] = rsrv.URL + path
	}
	return &harness{opt: Options{
		Catalog: cat, URLs: urls, Probe: rsrv.URL + "/_probe/{subject}", Secret: "s3cr3t",
		Dispatcher: d, Vendor: vendor, VendorBase: vsrv.URL,
		Fetches: map[string]bool{"jumio-kyx": true},
	}}
}

// TestLibraryPassesAgainstTheReferenceReceiver plays every built-in
// scenario against the reference receiver: each must pass, with nothing
// skipped.
func TestLibraryPassesAgainstTheReferenceReceiver(t *testing.T) {
	h := newHarness(t, receiver.Config{})
	lib, err := Library(h.opt.Catalog)
	if err != nil {
		t.Fatal(err)
	}
	if len(lib) < 45 {
		t.Errorf("only %d built-in scenarios", len(lib))
	}
	for _, sc := range lib {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel() // each scenario runs on its own clock and subjects
			res := Run(context.Background(), sc, h.opt)
			for _, s := range res.Steps {
				for _, f := range s.Failures {
					t.Errorf("step %d %s: %s", s.Index, s.Label, f)
				}
				for _, k := range s.Skipped {
					t.Errorf("step %d %s skipped: %s", s.Index, s.Label, k)
				}
			}
			if !res.Passed {
				t.Errorf("%s failed", sc.Name)
			}
		})
	}
}

// TestLibraryCatchesDefects checks that the library is not blind: against
// a receiver with a defect, the scenarios aimed at it fail.
func TestLibraryCatchesDefects(t *testing.T) {
	for _, tt := range []struct {
		defect receiver.Defect
		fails  []string
	}{
		{receiver.DefectNoDedup, []string{"sumsub/duplicate-delivery", "sumsub/concurrent-duplicates", "jumio-kyx/duplicate-delivery", "jumio-kyx/concurrent-duplicates"}},
		{receiver.DefectStateRegression, []string{"jumio-kyx/out-of-order", "sumsub/out-of-order"}},
		{receiver.DefectStrictMillis, []string{"jumio-kyx/precision-sweep", "jumio-netverify/precision-sweep"}},
		{receiver.DefectMergeFinals, []string{"sumsub/two-final-results", "sumsub/retry-reject"}},
	} {
		t.Run(string(tt.defect), func(t *testing.T) {
			h := newHarness(t, receiver.Config{Defects: []receiver.Defect{tt.defect}})
			lib, err := Library(h.opt.Catalog)
			if err != nil {
				t.Fatal(err)
			}
			byName := map[string]*Scenario{}
			for _, sc := range lib {
				byName[sc.Name] = sc
			}
			for _, name := range tt.fails {
				sc := byName[name]
				if sc == nil {
					t.Fatalf("no scenario %s", name)
				}
				// A short poll: the expectation is known to fail.
				quick := *sc
				quick.Steps = append([]Step(nil), sc.Steps...)
				for i := range quick.Steps {
					if e := quick.Steps[i].Expect; e != nil {
						c := *e
						c.Within = 100 * time.Millisecond
						quick.Steps[i].Expect = &c
					}
				}
				if res := Run(context.Background(), &quick, h.opt); res.Passed {
					t.Errorf("%s passed against a receiver with defect %s", name, tt.defect)
				}
			}
		})
	}
}

func TestStatusMatches(t *testing.T) {
	for _, tt := range []struct {
		pattern string
		status  int
		want    bool
	}{
		{"2xx", 200, true}, {"2xx", 204, true}, {"2xx", 302, false}, {"4xx", 401, true},
		{"200", 200, true}, {"200", 201, false}, {"5xx", 0, false},
	} {
		if got := statusMatches(tt.pattern, tt.status); got != tt.want {
			t.Errorf("statusMatches(%s, %d) = %v", tt.pattern, tt.status, got)
		}
	}
	if !strings.Contains(firstLine([]byte("a\nb")), "a") {
		t.Error("firstLine")
	}
}
