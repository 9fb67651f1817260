package spec

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzValidate feeds arbitrary bodies to every product at both levels: no
// panics, and every violation says where, what rule and what is wrong.
func FuzzValidate(f *testing.F) {
	c := mustCatalog(f)
	files, _ := filepath.Glob("testdata/samples/*/*")
	more, _ := filepath.Glob("testdata/mutations/*.in")
	for _, name := range append(files, more...) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for i := range productOrder {
			f.Add(uint8(i), data)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		p, err := c.Product(productOrder[int(which)%len(productOrder)])
		if err != nil {
			t.Fatal(err)
		}
		if d := precheckDisagreement(t, p, body); d != "" {
			t.Fatal(d)
		}
		for _, lv := range Levels {
			res, err := p.Validate(body, Options{Level: lv})
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			for _, v := range res.Violations {
				if v.Rule == "" || v.Message == "" {
					t.Fatalf("violation without rule or message: %+v", v)
				}
			}
			if !res.Valid() && len(res.Violations) == 0 {
				t.Fatal("invalid without violations")
			}
			// The schema with top-level cases decided from the payload
			// must agree with the if/then schema.
			if res.Message != "" && p.table != nil {
				if pl, vs := p.Decode(body, "", lv); pl != nil && len(vs) == 0 {
					c, err := p.at(lv)
					if err != nil {
						t.Fatal(err)
					}
					fast, err := c.unitFor(res.Message, pl.Value)
					if err != nil {
						t.Fatal(err)
					}
					slow, err := c.units[res.Message].get()
					if err != nil {
						t.Fatal(err)
					}
					fs, err := fast.doc.schema(fast.ptr)
					if err != nil {
						t.Fatal(err)
					}
					ss, err := slow.doc.schema(slow.ptr)
					if err != nil {
						t.Fatal(err)
					}
					if a, b := fs.Validate(pl.Value) == nil, ss.Validate(pl.Value) == nil; a != b {
						t.Fatalf("%s %s at %s: decided schema says valid=%v, if/then schema says %v", p.Name, res.Message, lv, a, b)
					}
				}
			}
		}
	})
}

func TestOpenAPIExportValidates(t *testing.T) {
	c := mustCatalog(t)
	for _, p := range c.Products() {
		for _, lv := range Levels {
			doc, err := p.OpenAPI(lv)
			if err != nil {
				t.Fatalf("%s %s: %v", p.Name, lv, err)
			}
			if err := doc.Validate(context.Background()); err != nil {
				t.Errorf("%s %s: kin-openapi rejects the document: %v", p.Name, lv, err)
			}
			if len(doc.Webhooks) != len(p.Messages) {
				t.Errorf("%s: %d webhooks for %d messages", p.Name, len(doc.Webhooks), len(p.Messages))
			}
			for _, m := range p.Messages {
				op := doc.Webhooks[m.Name].Post
				if op == nil || op.RequestBody.Value.Content.Get(p.ContentType) == nil {
					t.Fatalf("%s %s: no POST %s body", p.Name, m.Name, p.ContentType)
				}
				if p.Encoding == EncodingForm {
					enc := op.RequestBody.Value.Content.Get(p.ContentType).Encoding
					for _, f := range p.JSONFields() {
						if enc[f] == nil || enc[f].ContentType != "application/json" {
							t.Errorf("%s: JSON-in-form field %s lacks encoding application/json", p.Name, f)
						}
					}
				}
			}
			b, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), `"openapi":"3.1.0"`) || !strings.Contains(string(b), `"webhooks"`) {
				t.Errorf("%s: export is not an OpenAPI 3.1 webhooks document", p.Name)
			}
		}
	}
}

// TestCheckRequest posts real requests over loopback to a server that
// checks them with CheckRequest.
func TestCheckRequest(t *testing.T) {
	c := mustCatalog(t)
	p, err := c.Product("jumio-auth")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, _, err := p.CheckRequest(r, Options{})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(res)
	}))
	defer srv.Close()
	body := string(benchBody(t, "jumio-auth"))
	tests := []struct {
		name, method, contentType, body string
		want                            []string // place + " " + rule
	}{
		{"valid", "POST", "application/x-www-form-urlencoded", body, nil},
		{"wrong content type", "POST", "application/json", body, []string{"header Content-Type content-type"}},
		{"wrong method", "PUT", "application/x-www-form-urlencoded", body, []string{"(body) method"}},
		{"missing field", "POST", "application/x-www-form-urlencoded", strings.Replace(body, "scanSource=SDK&", "", 1), []string{"scanSource required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+"/my/own/path", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", tt.contentType)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var res Result
			if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
				t.Fatalf("status %d: %v", resp.StatusCode, err)
			}
			var got []string
			for _, v := range res.Violations {
				got = append(got, v.Place()+" "+v.Rule)
			}
			if strings.Join(got, ";") != strings.Join(tt.want, ";") {
				t.Errorf("violations = %q, want %q (%v)", got, tt.want, res.Violations)
			}
		})
	}
}
