package main

import (
	"strings"
	"testing"
)

// TestDidYouMean checks that a mistyped product, message, scenario name or
// tag is a usage error that names the nearest known one.
func TestDidYouMean(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"send", "sumsup", "applicantReviewed", "--dry-run"}, `unknown product "sumsup"; did you mean "sumsub"?`},
		{[]string{"send", "sumsub", "applicantReviewd", "--dry-run"}, `unknown sumsub message "applicantReviewd"; did you mean "applicantReviewed"?`},
		{[]string{"validate", "--product", "jumio-kxy", "-"}, `did you mean "jumio-kyx"?`},
		{[]string{"conform", "--to", "http://127.0.0.1:1/", "--product", "jumio-kxy"}, `did you mean "jumio-kyx"?`},
		{[]string{"run", "sumsub/hapy-path", "--base", "http://127.0.0.1:1"}, `did you mean "sumsub/happy-path"?`},
		{[]string{"run", "--tag", "frud", "--base", "http://127.0.0.1:1"}, `--tag "frud": no scenario carries this tag; did you mean "fraud"?`},
		{[]string{"scenarios", "--tag", "frud"}, `did you mean "fraud"?`},
		{[]string{"scenarios", "--product", "sumsup"}, `did you mean "sumsub"?`},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := run(t, "", tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", code, stderr, tt.want)
			}
		})
	}
	if code, _, stderr := run(t, "", "send", "onfido", "x", "--dry-run"); code != 2 || strings.Contains(stderr, "did you mean") {
		t.Errorf("a name far from every product: exit %d, %s; want exit 2 and no suggestion", code, stderr)
	}
}
