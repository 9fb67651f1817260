package main

import (
	"os"
	"testing"
)

// TestScenariosSchema prints the committed scenario.schema.json: the
// catalog's lists are spliced in, and the copy editors read is current.
func TestScenariosSchema(t *testing.T) {
	code, out, errOut := run(t, "", "scenarios", "schema")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want, err := os.ReadFile("../../scenarios/scenario.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Error("kycsim scenarios schema does not print scenarios/scenario.schema.json")
	}
	if code, _, _ := run(t, "", "scenarios", "schema", "extra"); code != 2 {
		t.Errorf("an extra argument: exit %d, want 2", code)
	}
}
