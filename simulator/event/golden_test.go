package event

import (
	"bytes"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// goldenSeed is the Rand seed of the golden bodies.
const goldenSeed = 20260530

// TestGolden pins one body per product and message, built with a fixed
// seed and time. Run with -update after an intended change and review the
// diff of testdata/.
func TestGolden(t *testing.T) {
	cat := testCatalog(t)
	seen := map[string]bool{}
	for _, p := range cat.Products() {
		for _, m := range p.MessageNames() {
			file := filepath.Join("testdata", "golden", p.Name+"."+m+".golden")
			seen[filepath.Base(file)] = true
			t.Run(p.Name+"/"+m, func(t *testing.T) {
				e, err := Build(cat, p.Name, m, Options{Rand: rand.New(rand.NewPCG(goldenSeed, 1)), Now: fixedNow})
				if err != nil {
					t.Fatal(err)
				}
				got := e.Body()
				if *update {
					if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(file, got, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(file)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if !bytes.Equal(want, got) {
					t.Errorf("%s differs (-want +got):\n-%s\n+%s\n%s", file, want, got, firstDiff(want, got))
				}
			})
		}
	}
	// A golden file no message produces is stale.
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			if *update {
				if err := os.Remove(f); err != nil {
					t.Fatal(err)
				}
				continue
			}
			t.Errorf("stale golden file %s: no product message produces it", f)
		}
	}
}

// firstDiff points at the first byte where two bodies differ.
func firstDiff(want, got []byte) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	lo := max(0, i-30)
	return "first difference at byte " + itoa(i) + ": want …" + string(want[lo:min(len(want), i+30)]) + "… got …" + string(got[lo:min(len(got), i+30)]) + "…"
}
