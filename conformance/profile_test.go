package conformance

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/kycsim/kycsim/spec"
)

var productNames = map[string][]string{
	"jumio-kyx": {"PROCESSED", "ACQUIRED"}, "jumio-netverify": {"APPROVED_VERIFIED"}, "jumio-auth": {"PASSED"},
	"jumio-docverify": {"EXTRACTED"}, "sumsub": {"applicantReviewed", "applicantPending"},
}

func TestLoadProfile(t *testing.T) {
	t.Setenv("TEST_WEBHOOK_SECRET", "from-env")
	p, err := LoadProfile("p.yaml", []byte(`targets:
  sumsub: http://127.0.0.1:9000/sumsub
  jumio-kyx: http://127.0.0.1:9000/jumio/kyx
probe: http://127.0.0.1:9000/_probe/{subject}
secret-env: TEST_WEBHOOK_SECRET
content-policy: reject
handles: {sumsub: [applicantReviewed]}
fetches: [jumio-kyx]
quiet: 1s
parallel: 4
enforce: [MUST, SHOULD]
skip: ["*.timing.*"]
settle: 500ms
`), productNames)
	if err != nil {
		t.Fatal(err)
	}
	if p.Secret != "from-env" || p.ForeignSource != "127.0.0.2" || p.ContentPolicy != "reject" || p.Handles["sumsub"][0] != "applicantReviewed" || !p.FetchesSet()["jumio-kyx"] || p.Quiet != time.Second || p.Parallel != 4 || !p.Enforced()["SHOULD"] || p.Settle != 500*time.Millisecond || len(p.Targets) != 2 {
		t.Errorf("%+v", p)
	}
	for _, tt := range []struct{ doc, want string }{
		{"", "p.yaml:1:1: empty profile"},
		{"targets: {sumsub: http://x/}\nprobee: x\n", `p.yaml:2:1: profile: unknown key "probee"; did you mean "probe"? (known: targets, probe, secret, secret-env, foreign-source, source-mode, content-policy, jumio-invalid, handles, fetches, quiet, settle, parallel, allow-skips, enforce, only, skip, time-scale)`},
		{"targets: {onfido: http://x/}\n", `p.yaml:1:11: targets: unknown product "onfido" (known: jumio-kyx, jumio-netverify, jumio-auth, jumio-docverify, sumsub)`},
		{"targets: {sumsub: ftp://x/}\n", `p.yaml:1:19: targets: sumsub: "ftp://x/" is not an http(s) URL`},
		{"probe: http://x/\ntargets: {sumsub: http://x/}\n", `p.yaml:1:8: probe "http://x/" has no {subject}`},
		{"targets: {sumsub: http://x/}\njumio-invalid: drop\n", `p.yaml:2:16: jumio-invalid "drop" is not ack-and-drop or reject`},
		{"targets: {sumsub: http://x/}\ncontent-policy: drop\n", `p.yaml:2:17: content-policy "drop" is not either, reject, ack-and-drop`},
		{"targets: {sumsub: http://x/}\nhandles: {sumsub: [applicantReviewd]}\n", `p.yaml:2:20: handles: sumsub has no message "applicantReviewd"; did you mean "applicantReviewed"? (known: applicantReviewed, applicantPending)`},
		{"targets: {sumsub: http://x/}\nhandles: {onfido: [x]}\n", `p.yaml:2:11: handles: unknown product "onfido" (known: jumio-kyx, jumio-netverify, jumio-auth, jumio-docverify, sumsub)`},
		{"targets: {sumsub: http://x/}\nfetches: [jumio]\n", `p.yaml:2:11: fetches: unknown product "jumio" (known: jumio-kyx, jumio-netverify, jumio-auth, jumio-docverify, sumsub)`},
		{"targets: {sumsub: http://x/}\nparallel: 1000\n", `p.yaml:2:11: parallel must be 1..64`},
		{"targets: {sumsub: http://x/}\ntime-scale: .nan\n", `p.yaml:2:13: time-scale: ".nan" has no JSON form`},
		{"targets: {sumsub: http://x/}\nenforce: [MAY]\n", `p.yaml:2:11: enforce: "MAY" is not MUST or SHOULD`},
		{"targets: {sumsub: http://x/}\nforeign-source: 10.0.0.1\n", "p.yaml:2:17: foreign-source: source address 10.0.0.1 is not a loopback address (127.0.0.0/8 or ::1)"},
		{"targets: {sumsub: http://x/}\nsecret-env: NO_SUCH_VAR_XYZ\n", "p.yaml:2:13: secret-env: $NO_SUCH_VAR_XYZ is not set"},
		{"targets: {sumsub: http://x/}\nsettle: soon\n", `p.yaml:2:9: settle "soon" is not a duration such as 500ms, 2s or 1m`},
		{"targets: {sumsub: http://x/}\ntime-scale: 0\n", "p.yaml:2:13: time-scale must be a factor > 0, at most 1000"},
		{"targets: {sumsub: http://x/}\ntime-scale: 1001\n", "p.yaml:2:13: time-scale must be a factor > 0, at most 1000"},
		{"targets: {sumsub: http://x:99999/}\n", `p.yaml:1:19: targets: sumsub: "http://x:99999/": port 99999 is out of range 1..65535`},
		{"targets: {sumsub: http://x/}\nsecret: a\nsecret-env: B\n", "p.yaml:3:1: give secret or secret-env, not both"},
		{"targets: {sumsub: http://x/}\nonly: [\"[\"]\n", `p.yaml:2:8: only: bad glob "[": syntax error in pattern`},
		{"targets: {sumsub: http://x/}\nenforce: MUST\n", `p.yaml:2:10: enforce must be a sequence, not "MUST"`},
		{"probe: x\n", "p.yaml:1:1: targets: name at least one product and its URL"},
		{"targets: {}\n", "p.yaml:1:10: targets: name at least one product and its URL"},
	} {
		_, err := LoadProfile("p.yaml", []byte(tt.doc), productNames)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q: %v, want %q", tt.doc, err, tt.want)
		}
	}
}

// TestProfileSchemaNamesTheCatalogsProducts keeps the products the
// profile schema lists (targets, handles, fetches) the catalog's.
func TestProfileSchemaNamesTheCatalogsProducts(t *testing.T) {
	cat, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Properties struct {
			Targets, Handles struct {
				Properties map[string]any
			}
			Fetches struct{ Items struct{ Enum []string } }
		}
	}
	if err := json.Unmarshal(ProfileSchema(), &s); err != nil {
		t.Fatal(err)
	}
	want := cat.Names()
	slices.Sort(want)
	for what, got := range map[string][]string{
		"targets": slices.Sorted(maps.Keys(s.Properties.Targets.Properties)), "handles": slices.Sorted(maps.Keys(s.Properties.Handles.Properties)),
		"fetches": slices.Sorted(slices.Values(s.Properties.Fetches.Items.Enum)),
	} {
		if !slices.Equal(got, want) {
			t.Errorf("profile.schema.json %s names %v, the catalog %v", what, got, want)
		}
	}
}
