package sandboxapi

import "testing"

// TestDocument checks that the OpenAPI document loads and is valid.
func TestDocument(t *testing.T) {
	doc, err := Document()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/oauth2/token", "/api/v1/accounts", "/api/v4/initiate", "/resources/applicants", "/_sandbox/deliveries"} {
		if doc.Paths.Find(p) == nil {
			t.Errorf("the document has no path %s", p)
		}
	}
}
