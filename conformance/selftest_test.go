package conformance

import (
	"context"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycsim/kycsim/conformance/receiver"
	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/vendorapi"
	"github.com/kycsim/kycsim/spec"
)

// runAgainst plays every case against the reference receiver with the
// given configuration and returns the ids of the cases that did not pass.
func runAgainst(t *testing.T, cfg receiver.Config) []string {
	t.Helper()
	cat, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	cases, err := scenarios.Cases(cat)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Secret, cfg.Fetch = "s3cr3t", true
	if cfg.SlowDelay == 0 {
		cfg.SlowDelay = 1100 * time.Millisecond
	}
	rc, err := receiver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rsrv := httptest.NewServer(rc)
	defer rsrv.Close()
	vendor := vendorapi.New()
	vsrv := httptest.NewServer(vendor)
	defer vsrv.Close()
	urls := map[string]string{}
	for p, path := range receiver.Paths {
		urls[p] = rsrv.URL + path
	}
	opt := scenarios.Options{
		Catalog: cat, URLs: urls, Probe: rsrv.URL + "/_probe/{subject}", Secret: "s3cr3t",
		Vendor: vendor, VendorBase: vsrv.URL, Settle: 300 * time.Millisecond,
		AckAndDrop: true,
	}
	opt.Vars, opt.ForwardedFor = SourceVars(SourceDirect, "127.0.0.2")
	// The cases speak of distinct subjects, so they can run at once; 16 at
	// a time keeps the slow defect's run short.
	results := make([]*Report, len(cases))
	work := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each worker has its own clock: a scenario's waits move its
			// clock, and must not age another scenario's events.
			wopt := opt
			wopt.Dispatcher = delivery.NewDispatcher(delivery.NewScaledClock(0.00001), delivery.NewLog(nil))
			defer wopt.Dispatcher.Close()
			for i := range work {
				results[i] = Run(context.Background(), cases[i:i+1], wopt, nil, nil)
			}
		}()
	}
	for i := range cases {
		work <- i
	}
	close(work)
	wg.Wait()
	var failed []string
	for _, rep := range results {
		for _, c := range rep.Cases {
			if c.Outcome != Pass {
				failed = append(failed, c.ID)
			}
		}
	}
	sort.Strings(failed)
	return failed
}

// defectCatches maps each known defect of the reference receiver to the
// cases that must catch it (id globs). The README's defect table is this
// table.
var defectCatches = map[receiver.Defect][]string{
	receiver.DefectNoSignatureCheck:  {"sumsub.reject.signature.*"},
	receiver.DefectAssumeSHA256:      {"sumsub.accept.signature-sha1", "sumsub.accept.signature-sha512", "sumsub.reject.signature.unknown-algorithm"},
	receiver.DefectReserializedBody:  {"sumsub.accept.*", "sumsub.dedup.*", "sumsub.order.*", "sumsub.timing.*"},
	receiver.DefectNoDedup:           {"*.dedup.identical", "*.dedup.restamped", "*.dedup.concurrent"},
	receiver.DefectMergeFinals:       {"*.order.stale-after-final", "jumio-kyx.dedup.distinct-statuses", "sumsub.dedup.distinct-results"},
	receiver.DefectStateRegression:   {"*.order.stale-after-final"},
	receiver.DefectStrictMillis:      {"jumio-*.accept.precision-0", "jumio-*.accept.precision-1", "jumio-*.accept.precision-2"},
	receiver.DefectBoolSandboxMode:   {"sumsub.accept.sandbox-mode-string"},
	receiver.DefectUnknownFields5xx:  {"*.accept.unknown-field"},
	receiver.DefectRejectUnknownType: {"sumsub.accept.unknown-type"},
	receiver.DefectAcceptInvalid: {"*.reject.content-type", "*.reject.bad-enum", "jumio-*.reject.missing.*", "sumsub.reject.missing.correlation-id",
		"sumsub.reject.missing.created-at-ms", "sumsub.reject.missing.inspection-id", "sumsub.reject.missing.level-name",
		"sumsub.reject.missing.review-status", "sumsub.reject.missing.type"},
	receiver.DefectSlow:              {"*.timing.fast-answer"},
	receiver.DefectAnySource:         {"jumio-*.reject.source.*"},
	receiver.DefectTrustForwardedFor: {"jumio-kyx.reject.source.forwarded-for-spoof"},
}

// TestSelfTest is the proof that the suite is worth trusting: against the
// clean reference receiver every case passes, and for every known defect
// exactly the cases aimed at it fail (and nothing else).
func TestSelfTest(t *testing.T) {
	cat, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	cases, err := scenarios.Cases(cat)
	if err != nil {
		t.Fatal(err)
	}
	if len(defectCatches) != len(receiver.Defects) {
		t.Errorf("%d defects have catching cases listed, %d defects exist", len(defectCatches), len(receiver.Defects))
	}
	t.Run("clean", func(t *testing.T) {
		t.Parallel()
		if got := runAgainst(t, receiver.Config{}); len(got) > 0 {
			t.Errorf("the clean reference receiver fails %s", strings.Join(got, ", "))
		}
	})
	for _, d := range receiver.Defects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			want, err := Select(cases, nil, defectCatches[d], nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 {
				t.Fatalf("no case is aimed at %s: the defect would go undetected", d)
			}
			var wantIDs []string
			for _, sc := range want {
				wantIDs = append(wantIDs, sc.Case.ID)
			}
			sort.Strings(wantIDs)
			got := runAgainst(t, receiver.Config{Defects: []receiver.Defect{d}})
			if strings.Join(got, "\n") != strings.Join(wantIDs, "\n") {
				t.Errorf("defect %s:\n  failed: %s\n  aimed:  %s", d, strings.Join(got, " "), strings.Join(wantIDs, " "))
			}
		})
	}
}
