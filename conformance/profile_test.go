package conformance

import (
	"strings"
	"testing"
	"time"
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
		{"", "p.yaml: empty profile"},
		{"targets: {sumsub: http://x/}\nprobee: x\n", "p.yaml:2: unknown key \"probee\""},
		{"targets: {onfido: http://x/}\n", `p.yaml:1: targets: unknown product "onfido"`},
		{"targets: {sumsub: ftp://x/}\n", `p.yaml:1: targets: sumsub: "ftp://x/" is not an http(s) URL`},
		{"probe: http://x/\ntargets: {sumsub: http://x/}\n", `p.yaml:1: probe "http://x/" has no {subject}`},
		{"targets: {sumsub: http://x/}\njumio-invalid: drop\n", `p.yaml:2: jumio-invalid "drop"`},
		{"targets: {sumsub: http://x/}\ncontent-policy: drop\n", `p.yaml:2: content-policy "drop" is not either, reject, ack-and-drop`},
		{"targets: {sumsub: http://x/}\nhandles: {sumsub: [applicantReviewd]}\n", `p.yaml:2: handles: sumsub has no message "applicantReviewd"`},
		{"targets: {sumsub: http://x/}\nhandles: {onfido: [x]}\n", `p.yaml:2: handles: unknown product "onfido"`},
		{"targets: {sumsub: http://x/}\nfetches: [jumio]\n", `p.yaml:2: fetches: unknown product "jumio"`},
		{"targets: {sumsub: http://x/}\nparallel: 1000\n", `p.yaml:2: parallel must be 1..64`},
		{"targets: {sumsub: http://x/}\ntime-scale: .nan\n", `p.yaml:2: time-scale must be a factor > 0`},
		{"targets: {sumsub: http://x/}\nenforce: [MAY]\n", `p.yaml:2: enforce: "MAY"`},
		{"targets: {sumsub: http://x/}\nforeign-source: 10.0.0.1\n", "p.yaml:2: foreign-source: source address 10.0.0.1 is not a loopback address"},
		{"targets: {sumsub: http://x/}\nsecret-env: NO_SUCH_VAR_XYZ\n", "p.yaml:2: secret-env: $NO_SUCH_VAR_XYZ is not set"},
		{"targets: {sumsub: http://x/}\nsettle: soon\n", "p.yaml:2: cannot unmarshal"},
		{"enforce: MUST\n", "p.yaml:1: cannot unmarshal"},
		{"probe: x\n", "p.yaml: targets: name at least one product"},
	} {
		_, err := LoadProfile("p.yaml", []byte(tt.doc), productNames)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.doc, err, tt.want)
		}
	}
}
