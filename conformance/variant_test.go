package conformance

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestFailureNamesTheVariant plays the Netverify accept cases against a
// receiver that requires customerId, which Jumio sends only when the
// customer gave one: the cases that fail are those whose subject took the
// variant without it, and each failure says so, and why such callbacks
// are real.
func TestFailureNamesTheVariant(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if q, err := url.ParseQuery(string(body)); err != nil || q.Get("customerId") == "" {
			http.Error(w, "customerId is required", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	opt, cases := runOptions(t, srv.URL)
	seed := uint64(7)
	opt.Seed = &seed
	cases, err := Select(cases, nil, []string{"jumio-netverify.accept.*"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := Run(context.Background(), cases, opt, Config{Parallel: 8})
	failed := 0
	for _, c := range rep.Cases {
		if c.Outcome != Fail {
			continue
		}
		failed++
		for _, r := range c.Reasons {
			if !strings.Contains(r, "netverify.customerId=absent (customerId is sent only when the customer gave one") {
				t.Errorf("%s: the failure does not name the variant that caused it: %s", c.ID, r)
			}
		}
	}
	if failed == 0 || failed == len(rep.Cases) {
		t.Fatalf("%d of %d cases failed; the seed should give some subjects customerId and some not", failed, len(rep.Cases))
	}
}
