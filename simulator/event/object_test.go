package event

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestObject(t *testing.T) {
	var o Object // the zero value is usable
	for _, kv := range []struct {
		k string
		v any
	}{{"b", 1}, {"a", "x"}, {"c", true}} {
		if err := o.Set(kv.k, kv.v); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.Set("b", json.Number("2")); err != nil { // keeps its place
		t.Fatal(err)
	}
	if got := o.Keys(); !slices.Equal(got, []string{"b", "a", "c"}) {
		t.Errorf("Keys() = %q", got)
	}
	if v, ok := o.Get("b"); !ok || v != json.Number("2") {
		t.Errorf("Get(b) = %v, %v", v, ok)
	}
	if _, ok := o.Get("zz"); ok {
		t.Errorf("Get(zz) found something")
	}
	if !o.Delete("a") || o.Delete("a") {
		t.Errorf("Delete(a) twice did not report true then false")
	}
	b, err := json.Marshal(&o)
	if err != nil || string(b) != `{"b":2,"c":true}` {
		t.Errorf("Marshal = %s, %v", b, err)
	}
	if o.Len() != 2 {
		t.Errorf("Len() = %d", o.Len())
	}

	var nilObj *Object
	if nilObj.Len() != 0 || nilObj.Keys() != nil || nilObj.Delete("a") || nilObj.Clone() != nil {
		t.Errorf("a nil *Object is not empty")
	}
	if _, ok := nilObj.Get("a"); ok {
		t.Errorf("nil Get found something")
	}
	if err := nilObj.Set("a", 1); err == nil {
		t.Errorf("Set on a nil *Object succeeded")
	}
	if b, err := nilObj.MarshalJSON(); err != nil || string(b) != "null" {
		t.Errorf("nil MarshalJSON = %s, %v", b, err)
	}
}

func TestObjectUnmarshalKeepsOrder(t *testing.T) {
	in := `{"z":1,"a":[{"y":null,"b":"x"},2.50],"m":{"q":false,"p":{}},"e":"\u003c\u2028"}`
	var o Object
	if err := json.Unmarshal([]byte(in), &o); err != nil {
		t.Fatal(err)
	}
	// MarshalJSON itself, since json.Marshal HTML-escapes what it returns.
	got, err := o.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"z":1,"a":[{"y":null,"b":"x"},2.50],"m":{"q":false,"p":{}},"e":"<\u2028"}`
	if string(got) != want {
		t.Errorf("round trip\n got %s\nwant %s", got, want)
	}
	for _, bad := range []string{`[1]`, `"s"`, `{"a":1} {}`, `{"a"`, ``} {
		var o Object
		if err := o.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("UnmarshalJSON(%q) succeeded", bad)
		}
	}
}

func TestAppendString(t *testing.T) {
	tests := map[string]string{
		"plain":            `"plain"`,
		`q"b\`:             `"q\"b\\"`,
		"nl\n\r\t":         `"nl\n\r\t"`,
		"\x00\x1f\x7f":     `"\u0000\u001f\u007f"`,
		"<&>":              `"<&>"`,
		"bad\xffutf8":      `"bad\ufffdutf8"`,
		"ls\u2028ps\u2029": `"ls\u2028ps\u2029"`,
		"ünï€😀":            `"ünï€😀"`,
	}
	for in, want := range tests {
		got := string(appendString(nil, in))
		if got != want {
			t.Errorf("appendString(%q) = %s, want %s", in, got, want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("appendString(%q) = %s is not JSON: %v", in, got, err)
		} else if !strings.Contains(in, "\xff") && back != in {
			t.Errorf("appendString(%q) reads back as %q", in, back)
		}
	}
}

func TestIsNumber(t *testing.T) {
	for _, s := range []string{"0", "-0", "12", "1.5", "1e9", "1E+9", "-1.25e-3"} {
		if !isNumber(s) {
			t.Errorf("isNumber(%q) = false", s)
		}
	}
	for _, s := range []string{"", "-", "01", "1.", ".5", "1e", "+1", "0x1", "NaN", "1 "} {
		if isNumber(s) {
			t.Errorf("isNumber(%q) = true", s)
		}
	}
	o := NewObject()
	if err := o.Set("n", json.Number("01")); err == nil {
		t.Errorf("a bad json.Number was accepted")
	}
}
