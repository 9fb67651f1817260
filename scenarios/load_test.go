package scenarios

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kycsim/kycsim/conformance/receiver"
	"github.com/kycsim/kycsim/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

func catalog(t testing.TB) *spec.Catalog {
	t.Helper()
	cat, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// TestExample loads the language example, checks that scenarios/README.md
// shows it byte for byte, and plays it against the reference receiver.
func TestExample(t *testing.T) {
	data, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, append(append([]byte("```yaml\n"), data...), "```"...)) {
		t.Error("scenarios/README.md does not show testdata/example.yaml as its ```yaml example")
	}
	sc, err := Load("testdata/example.yaml", data, catalog(t))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[StepKind]bool{}
	for _, st := range sc.Steps {
		kinds[st.Kind] = true
	}
	for _, k := range []StepKind{KindSend, KindWait, KindRedeliver, KindParallel, KindVendorState, KindExpect} {
		if !kinds[k] {
			t.Errorf("the example has no %s step", k)
		}
	}
	if sc.Name != "example/every-step-kind" || sc.Product != "sumsub" || len(sc.Vars) != 2 || sc.Vars[0].Generate != "sumsub-id" || sc.Vars[1].Value != "FORGERY" {
		t.Errorf("scenario header: %+v", sc)
	}
	s := sc.Steps[1]
	if s.ID != "pending" || s.Send.SandboxMode != "string" || len(s.Send.Delivery.Headers) != 1 || s.Send.Expect.Status != "2xx" || s.Pos.Line != 10 || s.Pos.Col != 5 {
		t.Errorf("step 2: %+v %+v", s, s.Send)
	}
	if p := sc.Steps[6]; len(p.Parallel) != 3 || p.Parallel[0].Redeliver.Step != "reviewed" {
		t.Errorf("parallel: %+v", p)
	}
	if d := sc.Steps[8].Send.Delivery; !d.Retry || len(d.Delays) != 2 {
		t.Errorf("retry: %+v", d)
	}
	h := newHarness(t, receiver.Config{})
	res := Run(context.Background(), sc, h.opt)
	for _, st := range res.Steps {
		for _, f := range st.Failures {
			t.Errorf("step %d %s: %s", st.Index, st.Label, f)
		}
	}
}

// TestLoadErrors checks each kind of invalid file against its golden
// error (go test ./scenarios -run TestLoadErrors -update rewrites them).
func TestLoadErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("only %d error cases", len(files))
	}
	cat := catalog(t)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Load(f, data, cat)
			if err == nil {
				t.Fatal("loaded without error")
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("(-want +got)\n-%s+%s", want, got)
			}
		})
	}
}

// FuzzLoad checks that no input panics and that every error names the file.
func FuzzLoad(f *testing.F) {
	cat := catalog(f)
	seeds, _ := filepath.Glob("testdata/errors/*.yaml")
	seeds = append(seeds, "testdata/example.yaml")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Load("f.yaml", data, cat)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		if sc.Product == "" || len(sc.Steps) == 0 {
			t.Fatalf("loaded an empty scenario: %+v", sc)
		}
	})
}
