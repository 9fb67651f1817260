package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/simulator/event"
)

// alwaysCarried are, per product, the identity fields real deliveries
// always carry: a receiver may find its user by them, so a case that
// demands an effect must never drop them (Sumsub sets externalUserId even
// when the app gives none; Jumio echoes the customer's references).
var alwaysCarried = map[string][]string{
	"sumsub":          {"externalUserId"},
	"jumio-kyx":       {"account.id"},
	"jumio-netverify": {"merchantIdScanReference"},
	"jumio-auth":      {"enrollmentTransactionReference"},
	"jumio-docverify": {"transaction.merchantScanReference"},
}

// fieldOf reads a dotted path from a callback body: a JSON object, or a
// form whose first path token names a field (JSON inside it for the
// rest).
func fieldOf(product string, body []byte, path string) (string, bool) {
	toks := strings.Split(path, ".")
	var v any
	if product == "sumsub" || product == "jumio-kyx" {
		if json.Unmarshal(body, &v) != nil {
			return "", false
		}
	} else {
		q, err := url.ParseQuery(string(body))
		if err != nil || !q.Has(toks[0]) {
			return "", false
		}
		s := q.Get(toks[0])
		if len(toks) == 1 {
			return s, true
		}
		if json.Unmarshal([]byte(s), &v) != nil {
			return "", false
		}
		toks = toks[1:]
	}
	for _, k := range toks {
		m, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		if v, ok = m[k]; !ok {
			return "", false
		}
	}
	return fmt.Sprint(v), true
}

// sumsubLevelFamily groups Sumsub types by the level they speak of:
// applicant, action, video ident and transaction monitoring levels are
// different levels of one applicant.
func sumsubLevelFamily(body []byte) string {
	var w struct{ Type string }
	json.Unmarshal(body, &w)
	switch {
	case strings.Contains(w.Type, "Action"):
		return "action"
	case strings.HasPrefix(w.Type, "videoIdent"):
		return "video"
	case strings.Contains(w.Type, "Kyt"):
		return "kyt"
	}
	return "applicant"
}

// TestOneIdentityPerSubject plays every case against a receiver that
// acknowledges everything and checks, case by case and subject by
// subject, that every message about a subject carries the same
// identifying fields (event.IdentityFields, and Sumsub's levelName within
// a level), and that a case demanding an effect never drops a field real
// deliveries always carry.
func TestOneIdentityPerSubject(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer srv.Close()
	opt, cases := runOptions(t, srv.URL)
	seed := uint64(25)
	opt.Seed = &seed
	rep := Run(context.Background(), cases, opt, Config{Parallel: 16})
	compared := 0
	for i, cr := range rep.Cases {
		sc := cases[i]
		// The subjects the case demands an effect of.
		demands := map[string]bool{}
		for _, st := range sc.Steps {
			if st.Kind == scenarios.KindExpect && st.Expect.Positive() {
				demands[st.Expect.Subject] = true // "" is ${subject}
			}
		}
		bySubject := map[string][][]byte{}
		for _, st := range cr.Steps {
			for _, a := range st.Attempts {
				bySubject[a.Subject] = append(bySubject[a.Subject], a.RequestBody)
			}
		}
		for subject, bodies := range bySubject {
			fields := append([]string{event.SubjectPaths[sc.Product]}, event.IdentityFields[sc.Product]...)
			for _, f := range fields {
				values := map[string]bool{}
				for _, b := range bodies {
					if v, ok := fieldOf(sc.Product, b, f); ok {
						values[v] = true
					}
				}
				if len(values) > 1 {
					t.Errorf("%s: subject %s: %s takes %d values: %v", cr.ID, subject, f, len(values), slices.Sorted(maps.Keys(values)))
				}
				if len(bodies) > 1 {
					compared++
				}
			}
			if sc.Product == "sumsub" {
				levels := map[string]map[string]bool{}
				for _, b := range bodies {
					fam := sumsubLevelFamily(b)
					if v, ok := fieldOf("sumsub", b, "levelName"); ok {
						if levels[fam] == nil {
							levels[fam] = map[string]bool{}
						}
						levels[fam][v] = true
					}
				}
				for fam, values := range levels {
					if len(values) > 1 {
						t.Errorf("%s: subject %s: levelName of the %s level takes %d values", cr.ID, subject, fam, len(values))
					}
				}
			}
			if len(demands) == 0 {
				continue
			}
			for _, f := range alwaysCarried[sc.Product] {
				for _, b := range bodies {
					if _, ok := fieldOf(sc.Product, b, f); !ok {
						t.Errorf("%s demands an effect, but sends subject %s a callback without %s, which real deliveries always carry: %s", cr.ID, subject, f, b)
					}
				}
			}
		}
	}
	if compared == 0 {
		t.Fatal("no subject got more than one message: nothing was compared")
	}
}
