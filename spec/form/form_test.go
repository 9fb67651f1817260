package form

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	b, err := Parse([]byte("a=1&b=x+y&c=%7B%22k%22%3A1%7D&d=\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Field{{"a", "1", 0}, {"b", "x y", 4}, {"c", `{"k":1}`, 10}, {"d", "", 30}}
	if len(b.Fields) != len(want) {
		t.Fatalf("got %d fields, want %d: %+v", len(b.Fields), len(want), b.Fields)
	}
	for i, f := range want {
		if b.Fields[i] != f {
			t.Errorf("field %d = %+v, want %+v", i, b.Fields[i], f)
		}
	}
	if v, ok := b.Get("c"); !ok || v != `{"k":1}` {
		t.Errorf("Get(c) = %q, %v", v, ok)
	}
	if _, ok := b.Get("zz"); ok {
		t.Error("Get(zz) found a field that was not sent")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in, field, msg string
		offset         int
	}{
		{"", "", "empty body", 0},
		{"a=1&&b=2", "", "empty field", 4},
		{"a=1&", "", "empty field", 4},
		{"a=1&b", "b", "no '='", 4},
		{"=1", "", "empty field name", 0},
		{"a=1&b=%zz", "b", "bad percent-escape", 6},
		{"a%2=1", "a%2", "name: bad percent-escape", 0},
		{"a=1&b=2&a=3", "a", "sent twice (first at byte 0)", 8},
		{"a=%ff", "a", "not valid UTF-8", 2},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.in))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) error = %v, want *SyntaxError", tt.in, err)
			continue
		}
		if se.Field != tt.field || se.Offset != tt.offset || !strings.Contains(se.Msg, tt.msg) {
			t.Errorf("Parse(%q) = %+v, want field %q offset %d msg containing %q", tt.in, se, tt.field, tt.offset, tt.msg)
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	in := []Field{{Name: "idAddress", Value: `{"country":"USA","stateCode":"US-OH"}`}, {Name: "n a", Value: "x&y=z+1%"}}
	b, err := Parse([]byte(Encode(in)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if b.Fields[i].Name != in[i].Name || b.Fields[i].Value != in[i].Value {
			t.Errorf("round trip field %d = %+v, want %+v", i, b.Fields[i], in[i])
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("a=1&b=x+y&c=%7B%22k%22%3A1%7D"))
	f.Add([]byte("idType=PASSPORT&idCheckSignature=N%2FA&callBackType=NETVERIFYID"))
	f.Add([]byte("a=1&&b"))
	f.Add([]byte("%zz=%"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse(data)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *SyntaxError", err)
			}
			if se.Offset < 0 || se.Offset > len(data) {
				t.Fatalf("offset %d outside body of %d bytes", se.Offset, len(data))
			}
			return
		}
		// What parses must survive a re-encode unchanged.
		b2, err := Parse([]byte(Encode(b.Fields)))
		if err != nil {
			t.Fatalf("re-encoded body does not parse: %v", err)
		}
		if len(b2.Fields) != len(b.Fields) {
			t.Fatalf("re-encode changed the field count %d -> %d", len(b.Fields), len(b2.Fields))
		}
		for i := range b.Fields {
			if b.Fields[i].Name != b2.Fields[i].Name || b.Fields[i].Value != b2.Fields[i].Value {
				t.Fatalf("re-encode changed field %d: %+v -> %+v", i, b.Fields[i], b2.Fields[i])
			}
		}
	})
}
