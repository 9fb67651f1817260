package spec

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func mustCatalog(t testing.TB) *Catalog {
	t.Helper()
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CompileAll(); err != nil {
		t.Fatal(err)
	}
	return c
}

// sampleExceptions pins, per level, the violations the documents' own
// samples show; every other sample must be valid. Each entry says why.
var sampleExceptions = map[Level]map[string][]string{
	LevelVendor: {
		// The Netverify guide's samples leave out transactionDate and
		// callbackDate, which its own parameter table marks required, and
		// put the placeholder xxx.xxx.xxx.xxx where clientIp goes.
		"jumio-netverify/approved-verified.form": {"callbackDate required", "clientIp format", "transactionDate required"},
		"jumio-netverify/denied-fraud.form":      {"callbackDate required", "clientIp format", "transactionDate required"},
	},
	LevelStrict: {
		"jumio-netverify/approved-verified.form": {
			"callbackDate required", "clientIp format", "transactionDate required",
			// The sample sends validity as a JSON boolean; the table says TRUE/FALSE.
			"identityVerification#/validity type",
		},
		"jumio-netverify/denied-fraud.form": {"callbackDate required", "clientIp format", "transactionDate required"},
		// The Authentication table says JSON array/object; the sample sends a plain URL.
		"jumio-auth/passed.form": {"idScanImageFace json"},
		// The Document Verification table says signatureAvailable is the
		// string true/false; the EXTRACTED sample sends a JSON boolean.
		"jumio-docverify/extracted.form": {"document#/extractedData/signatureAvailable type"},
		// The Sumsub table says sandboxMode is a Boolean; most examples
		// send the string "false".
		"sumsub/applicantActivated.json":           {"/sandboxMode type"},
		"sumsub/applicantCreated.json":             {"/sandboxMode type"},
		"sumsub/applicantDeactivated.json":         {"/sandboxMode type"},
		"sumsub/applicantDeleted.json":             {"/sandboxMode type"},
		"sumsub/applicantLevelChanged.json":        {"/sandboxMode type"},
		"sumsub/applicantOnHold.json":              {"/sandboxMode type"},
		"sumsub/applicantPending.json":             {"/sandboxMode type"},
		"sumsub/applicantPersonalInfoChanged.json": {"/sandboxMode type"},
		"sumsub/applicantPrechecked.json":          {"/sandboxMode type"},
		"sumsub/applicantReset.json":               {"/sandboxMode type"},
		"sumsub/applicantTagsChanged.json":         {"/sandboxMode type"},
		"sumsub/videoIdentStatusChanged-1.json":    {"/sandboxMode type"},
		"sumsub/videoIdentStatusChanged-2.json":    {"/sandboxMode type"},
	},
}

// sampleMessages is the message each sample must be recognised as.
var sampleMessages = map[string]string{
	"jumio-kyx/processed.json":               "PROCESSED",
	"jumio-netverify/approved-verified.form": "APPROVED_VERIFIED",
	"jumio-netverify/denied-fraud.form":      "DENIED_FRAUD",
	"jumio-auth/passed.form":                 "PASSED",
	"jumio-docverify/uploaded.form":          "UPLOADED",
	"jumio-docverify/extracted.form":         "EXTRACTED",
	"jumio-docverify/discarded.form":         "DISCARDED",
}

func TestDocumentSamples(t *testing.T) {
	c := mustCatalog(t)
	files, err := filepath.Glob("testdata/samples/*/*")
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, f := range files {
		counts[filepath.Base(filepath.Dir(f))]++
	}
	// Every example of the three documents is here.
	want := map[string]int{"jumio-kyx": 1, "jumio-netverify": 2, "jumio-auth": 1, "jumio-docverify": 3, "sumsub": 19}
	for p, n := range want {
		if counts[p] != n {
			t.Errorf("%s: %d samples in testdata, want %d", p, counts[p], n)
		}
	}
	for _, lv := range Levels {
		for _, f := range files {
			key := filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f)
			t.Run(string(lv)+"/"+key, func(t *testing.T) {
				p, err := c.Product(filepath.Base(filepath.Dir(f)))
				if err != nil {
					t.Fatal(err)
				}
				body, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				res, err := p.Validate(body, Options{Level: lv})
				if err != nil {
					t.Fatal(err)
				}
				wantMsg := sampleMessages[key]
				if p.Name == "sumsub" {
					wantMsg = strings.SplitN(strings.TrimSuffix(filepath.Base(f), ".json"), "-", 2)[0]
				}
				if res.Message != wantMsg {
					t.Errorf("message = %q, want %q", res.Message, wantMsg)
				}
				var got []string
				for _, v := range res.Violations {
					got = append(got, v.Place()+" "+v.Rule)
				}
				sort.Strings(got)
				wantV := append([]string(nil), sampleExceptions[lv][key]...)
				sort.Strings(wantV)
				if strings.Join(got, "\n") != strings.Join(wantV, "\n") {
					t.Errorf("violations:\n got: %q\nwant: %q\nfull: %v", got, wantV, res.Violations)
				}
			})
		}
	}
}
