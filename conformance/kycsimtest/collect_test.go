package kycsimtest_test

import (
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"testing"

	"github.com/kycsim/kycsim/conformance/kycsimtest"
)

// runAndCollect runs Conform in a child go test process (so that its
// failures do not fail this test) and returns the ids of the subtests
// that failed. The child is this test binary, run with
// KYCSIMTEST_CHILD set; it serves the handler the parent gives.
func runAndCollect(t *testing.T, h http.Handler, settings ...kycsimtest.Setting) []string {
	t.Helper()
	if os.Getenv("KYCSIMTEST_CHILD") != "" {
		kycsimtest.Conform(t, h, settings...)
		return nil
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^"+t.Name()+"$", "-test.v")
	cmd.Env = append(os.Environ(), "KYCSIMTEST_CHILD=1")
	out, _ := cmd.CombinedOutput()
	var failed []string
	for _, m := range regexp.MustCompile(`--- FAIL: `+regexp.QuoteMeta(t.Name())+`/(\S+)`).FindAllStringSubmatch(string(out), -1) {
		failed = append(failed, m[1])
	}
	sort.Strings(failed)
	if len(failed) == 0 {
		t.Logf("child output:\n%s", out)
	}
	return failed
}
