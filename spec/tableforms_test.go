package spec

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tableForms rewrites each document sample into the form its own table
// documents, where the sample departs from it: the dates the Netverify
// samples leave out and a real client IP, validity as TRUE/FALSE, a JSON
// idScanImageFace, signatureAvailable as a string, sandboxMode as a
// Boolean.
var tableForms = map[string][][2]string{
	"jumio-netverify/approved-verified.form": {
		{"clientIp=xxx.xxx.xxx.xxx", "clientIp=192.0.2.10&transactionDate=2019-05-30T08%3A37%3A24.344Z&callbackDate=2019-05-30T08%3A37%3A35.822Z"},
		{"%22validity%22%3Atrue", "%22validity%22%3A%22TRUE%22"},
	},
	"jumio-netverify/denied-fraud.form": {
		{"clientIp=xxx.xxx.xxx.xxx", "clientIp=192.0.2.10&transactionDate=2019-05-30T08%3A37%3A24Z&callbackDate=2019-05-30T08%3A37%3A35.8Z"},
	},
	"jumio-auth/passed.form": {
		{"idScanImageFace=https%3A%2F%2Fnetverify.com%2Fapi%2Fnetverify%2Fv2%2Fauthentications%2Fxxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx%2Fimages%2Fface",
			"idScanImageFace=" + url.QueryEscape(`["https://netverify.com/api/netverify/v2/authentications/xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx/images/face"]`)},
	},
	"jumio-docverify/extracted.form": {
		{"%22signatureAvailable%22%3Atrue", "%22signatureAvailable%22%3A%22true%22"},
	},
}

// TestTableFormsPassStrict checks that every document sample, in the form
// its table documents, passes level strict, and level vendor with no
// warning: the tables and their samples describe the same callbacks.
func TestTableFormsPassStrict(t *testing.T) {
	c := mustCatalog(t)
	files, err := filepath.Glob("testdata/samples/*/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		key := filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f)
		t.Run(key, func(t *testing.T) {
			p, err := c.Product(filepath.Base(filepath.Dir(f)))
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			body := string(data)
			for _, r := range tableForms[key] {
				if !strings.Contains(body, r[0]) {
					t.Fatalf("the sample lacks %q", r[0])
				}
				body = strings.Replace(body, r[0], r[1], 1)
			}
			if p.Name == "sumsub" {
				body = strings.ReplaceAll(body, `"sandboxMode": "false"`, `"sandboxMode": false`)
			}
			for _, lv := range Levels {
				res, err := p.Validate([]byte(body), Options{Level: lv})
				if err != nil {
					t.Fatal(err)
				}
				if !res.Valid() || len(res.Warnings) > 0 {
					t.Errorf("level %s: violations %v, warnings %q\nbody: %s", lv, res.Violations, res.Warnings, body)
				}
			}
		})
	}
}
