package simulator

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"net/netip"
	"testing"

	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/signing"
)

func TestCallbackRequest(t *testing.T) {
	body := []byte(`{"type":"applicantCreated"}`)
	cb := Callback{Product: "sumsub", Message: "applicantCreated", ContentType: "application/json", Body: body,
		Sign: Signing{Secret: "k", Algorithm: signing.SHA512}, ForwardedFor: "34.202.241.227",
		Header: map[string][]string{"x-custom": {"1"}}, From: netip.MustParseAddr("127.0.0.2")}
	req, err := cb.Request("http://127.0.0.1:1/sumsub", delivery.SumsubPolicy)
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha512.New, []byte("k"))
	m.Write(body)
	if got, want := req.Header.Get("X-Payload-Digest"), hex.EncodeToString(m.Sum(nil)); got != want {
		t.Errorf("digest %s, want %s", got, want)
	}
	if req.Header.Get("X-Payload-Digest-Alg") != "HMAC_SHA512_HEX" || req.Header.Get("X-Custom") != "1" ||
		req.Header.Get("X-Forwarded-For") != "34.202.241.227" || req.From != cb.From || string(req.Body) != string(body) {
		t.Errorf("request %+v", req)
	}
	// A custom header overrides a computed one: how a test sends a wrong
	// algorithm name.
	cb.Header = map[string][]string{"X-Payload-Digest-Alg": {"HMAC_MD5_HEX"}}
	req, _ = cb.Request("http://127.0.0.1:1/sumsub", delivery.SumsubPolicy)
	if req.Header.Get("X-Payload-Digest-Alg") != "HMAC_MD5_HEX" {
		t.Errorf("header override lost: %v", req.Header)
	}
	// Unsigned: no secret, or a Jumio product.
	for _, c := range []Callback{{Product: "sumsub", Body: body}, {Product: "jumio-kyx", Body: body, Sign: Signing{Secret: "k"}}} {
		req, _ := c.Request("http://127.0.0.1:1/", delivery.JumioPolicy)
		if req.Header.Get("X-Payload-Digest") != "" {
			t.Errorf("%s signed: %v", c.Product, req.Header)
		}
	}
}

func TestParseHeader(t *testing.T) {
	k, v, err := ParseHeader("X-Trace:  abc ")
	if err != nil || k != "X-Trace" || v != "abc" {
		t.Errorf("ParseHeader = %q %q %v", k, v, err)
	}
	for _, s := range []string{"novalue", ": v", "Bad Name: v", "X-A: a\r\nX-B: b", "X(y): 1"} {
		if _, _, err := ParseHeader(s); err == nil {
			t.Errorf("ParseHeader(%q) accepted", s)
		}
	}
}

func TestParseSource(t *testing.T) {
	for _, s := range []string{"127.0.0.1", "127.0.0.2", "127.255.0.9", "::1"} {
		if _, err := ParseSource(s); err != nil {
			t.Errorf("ParseSource(%q): %v", s, err)
		}
	}
	for _, s := range []string{"10.0.0.1", "0.0.0.0", "localhost", "", "128.0.0.1"} {
		if _, err := ParseSource(s); err == nil {
			t.Errorf("ParseSource(%q) accepted", s)
		}
	}
}
