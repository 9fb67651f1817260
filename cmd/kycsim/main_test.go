package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

const samples = "../../spec/testdata/samples/"

func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb}
	code := m.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestValidateExitCodes(t *testing.T) {
	kyx := readFile(t, samples+"jumio-kyx/processed.json")
	tests := []struct {
		name    string
		stdin   string
		args    []string
		code    int
		stdout  string // substring
		stderrs string // substring
	}{
		{"valid json file", "", []string{"validate", "--product", "sumsub", samples + "sumsub/applicantCreated.json"}, 0, "valid sumsub applicantCreated (level vendor)", ""},
		{"flags after the file", "", []string{"validate", samples + "sumsub/applicantCreated.json", "--product", "sumsub", "--level", "strict"}, 1, `/sandboxMode: "false" is a string; expected a boolean`, ""},
		{"valid form, detected", "", []string{"validate", "--product", "jumio-docverify", samples + "jumio-docverify/uploaded.form"}, 0, "valid jumio-docverify UPLOADED", ""},
		{"invalid form", "", []string{"validate", "--product", "jumio-netverify", samples + "jumio-netverify/denied-fraud.form"}, 1, "transactionDate: required field is missing", ""},
		{"stdin", strings.Replace(kyx, "PROCESSED", "DONE", 1), []string{"validate", "--product", "jumio-kyx", "-"}, 1,
			`/workflowExecution/status: "DONE" is not one of PROCESSED, ACQUISITION_STARTED, ACQUIRED, SESSION_EXPIRED, TOKEN_EXPIRED`, ""},
		{"forced message", kyx, []string{"validate", "--product", "jumio-kyx", "--message", "ACQUIRED", "-"}, 1, `"PROCESSED" is not ACQUIRED`, ""},
		{"one invalid of two", "", []string{"validate", "--product", "jumio-auth", samples + "jumio-auth/passed.form", samples + "jumio-netverify/denied-fraud.form"}, 1, "valid jumio-auth PASSED", ""},
		{"content type forced", kyx, []string{"validate", "--product", "jumio-kyx", "--content-type", "application/x-www-form-urlencoded", "-"}, 1, "the body is form-encoded", ""},
		{"no product", "", []string{"validate", samples + "sumsub/applicantCreated.json"}, 2, "", "--product is required"},
		{"unknown product", "", []string{"validate", "--product", "onfido", "x.json"}, 2, "", `unknown product "onfido"`},
		{"unknown message", "", []string{"validate", "--product", "sumsub", "--message", "applicantExploded", "x.json"}, 2, "", `unknown sumsub message "applicantExploded"`},
		{"missing file", "", []string{"validate", "--product", "sumsub", "does-not-exist.json"}, 2, "", "does-not-exist.json"},
		{"bad level", "", []string{"validate", "--product", "sumsub", "--level", "lax", "-"}, 2, "", `level "lax" is not vendor or strict`},
		{"bad flag", "", []string{"validate", "--produkt", "sumsub"}, 2, "", "flag provided but not defined"},
		{"no input", "", []string{"validate", "--product", "sumsub"}, 2, "", "no input"},
		{"unknown command", "", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"no command", "", nil, 2, "", "Usage: kycsim <command>"},
		{"help", "", []string{"help"}, 0, "Usage: kycsim <command>", ""},
		{"bad asyncapi", "", []string{"validate", "--asyncapi", "main.go", "-"}, 2, "", "--asyncapi: main.go"},
		{"user asyncapi", kyx, []string{"validate", "--asyncapi", "../../spec/testdata/seed-kyx.asyncapi.yaml", "-"}, 0, "valid seed-kyx workflowExecutionProcessed", ""},
		{"http request", "", []string{"validate", "--product", "jumio-netverify", "--http", "../../spec/testdata/requests/netverify-wrong-content-type.http"}, 1, `header Content-Type: Content-Type "application/json"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := run(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errs)
			}
			if !strings.Contains(out, tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, out)
			}
			if !strings.Contains(errs, tt.stderrs) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderrs, errs)
			}
		})
	}
}

func TestValidateJSONOutput(t *testing.T) {
	code, out, _ := run(t, "", "validate", "--product", "jumio-netverify", "--format", "json", samples+"jumio-netverify/denied-fraud.form")
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	var r struct {
		File       string `json:"file"`
		Valid      bool   `json:"valid"`
		Message    string `json:"message"`
		Violations []struct {
			Field, Pointer, Rule, Message string
		} `json:"violations"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r.Valid || r.Message != "DENIED_FRAUD" || len(r.Violations) != 3 || r.Violations[0].Field != "callbackDate" || r.Violations[0].Rule != "required" {
		t.Errorf("unexpected JSON result: %+v", r)
	}
}

// TestSpecGolden pins the output of spec list and spec schema.
func TestSpecGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"spec-list", []string{"spec", "list"}},
		{"spec-schema-netverify-denied-fraud", []string{"spec", "schema", "jumio-netverify", "DENIED_FRAUD"}},
		{"spec-schema-kyx-processed-strict", []string{"spec", "schema", "jumio-kyx", "PROCESSED", "--level", "strict"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := run(t, "", tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			golden := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := readFile(t, golden); out != want {
				t.Errorf("%s differs; run go test ./cmd/kycsim -run TestSpecGolden -update and review the diff", golden)
			}
		})
	}
}

func TestSpecExport(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := run(t, "", "spec", "export", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "wrote 53 files") {
		t.Errorf("stdout: %s", out)
	}
	for _, f := range []string{"sumsub/applicantReviewed.schema.json", "jumio-kyx/PROCESSED.schema.json", "jumio-netverify.openapi.json", "jumio-docverify/FAILED.schema.json"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if code, _, errs := run(t, "", "spec", "schema", "sumsub"); code != 2 || !strings.Contains(errs, "PRODUCT and MESSAGE") {
		t.Errorf("spec schema with one argument: exit %d, %s", code, errs)
	}
}

// TestValidateBodyGolden pins the messages for bodies no parser should
// have to guess about: empty, white space only, with a byte order mark,
// with a key twice, with bytes that are not UTF-8.
func TestValidateBodyGolden(t *testing.T) {
	kyx := readFile(t, samples+"jumio-kyx/processed.json")
	created := readFile(t, samples+"sumsub/applicantCreated.json")
	fraud := readFile(t, samples+"jumio-netverify/denied-fraud.form")
	tests := []struct {
		name, stdin string
		args        []string
	}{
		{"empty-body", "", []string{"--product", "sumsub"}},
		{"white-space-body", " \r\n\t\n", []string{"--product", "jumio-netverify"}},
		{"bom-body", "\xef\xbb\xbf" + created, []string{"--product", "sumsub"}},
		{"duplicate-key", strings.Replace(kyx, `"status": "PROCESSED"`, `"status": "PROCESSED", "status": "TOKEN_EXPIRED"`, 1), []string{"--product", "jumio-kyx"}},
		{"duplicate-key-json", strings.Replace(kyx, `"status": "PROCESSED"`, `"status": "PROCESSED", "status": "TOKEN_EXPIRED"`, 1), []string{"--product", "jumio-kyx", "--level", "strict", "--format", "json"}},
		{"duplicate-key-in-form-field", strings.Replace(fraud, "%22rejectReasonCode%22%3A%22100%22%2C", "%22rejectReasonCode%22%3A%22100%22%2C%22rejectReasonCode%22%3A%22105%22%2C", 1), []string{"--product", "jumio-netverify"}},
		{"invalid-utf8", strings.Replace(created, `"12672"`, "\"12672\xc3\"", 1), []string{"--product", "sumsub"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := run(t, tt.stdin, append(append([]string{"validate"}, tt.args...), "-")...)
			if code != 1 {
				t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", code, out, errs)
			}
			golden := filepath.Join("testdata", "validate-"+tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := readFile(t, golden); out != want {
				t.Errorf("%s (-want +got):\n-%s\n+%s", golden, strings.ReplaceAll(want, "\n", "\n-"), strings.ReplaceAll(out, "\n", "\n+"))
			}
		})
	}
}
