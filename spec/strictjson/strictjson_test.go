package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func stdDecode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data")
	}
	return v, nil
}

func TestDecodeAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{}`, `[]`, ` {"a": 1, "b": [true, false, null, "x", -0.5e+10, 0, 12]} `,
		`"caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t"`, `"日本語"`, `{"a": {"a": {"a": []}}}`,
		`[{"k": 1}, {"k": 2}]`, `-0`, `1E5`, "\t\n\r 3 \n",
	} {
		got, err := Decode([]byte(in))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		want, err := stdDecode([]byte(in))
		if err != nil {
			t.Fatalf("%s: encoding/json: %v", in, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, want %#v", in, got, want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		in      string
		kind    Kind
		offset  int
		pointer string
		msg     string // substring
	}{
		{`{"a": 1, "a": 2}`, Duplicate, 9, "/a", `key "a" appears twice in one object, first at byte 1`},
		{`{"x": [{"id": 1}, {"id": 2, "n": {"k": 0, "k": 0}}]}`, Duplicate, 42, "/x/1/n/k", "first at byte 34"},
		{`{"a/b": 1, "a/b": 1}`, Duplicate, 11, "/a~1b", `key "a/b"`},
		{"{\"a\": \"ok \xff\"}", UTF8, 10, "/a", "byte 0xff is not valid UTF-8"},
		{"{\"k\xc3\": 1}", UTF8, 3, "", "not valid UTF-8"},
		{`["\ud800"]`, Surrogate, 2, "/0", `\ud800 is half a UTF-16 surrogate pair`},
		{`"\udc00\ud800"`, Surrogate, 1, "", "alone"},
		{`"\ud83dx"`, Surrogate, 1, "", "alone"},
		{``, Empty, 0, "", "no JSON value"},
		{" \n\t", Empty, 3, "", "no JSON value"},
		{`{"a": 1} x`, Trailing, 9, "", "data after the JSON value"},
		{`{"a" 1}`, Syntax, 5, "", `unexpected '1'; expected ':' after an object key`},
		{`{"a": tru}`, Syntax, 9, "", `expected 'e' (in true)`},
		{`[1, 2`, Syntax, 5, "", "unexpected end of JSON input"},
		{`01`, Trailing, 1, "", "data after"},
		{`-`, Syntax, 1, "", "expected a digit"},
		{`1.`, Syntax, 2, "", "after the decimal point"},
		{"\"a\tb\"", Syntax, 2, "", "control character 0x09"},
		{`"\x"`, Syntax, 2, "", "escape character"},
		{`"\u12g4"`, Syntax, 5, "", "hex digit"},
		{`{1: 2}`, Syntax, 1, "", "a string key"},
		{strings.Repeat("[", MaxDepth+1), Depth, MaxDepth, "", "nested more than"},
	}
	for _, tt := range tests {
		_, err := Decode([]byte(tt.in))
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%q: error %v, want an *Error", tt.in, err)
			continue
		}
		if e.Kind != tt.kind || e.Offset != tt.offset || (tt.kind != Depth && e.Pointer != tt.pointer) || !strings.Contains(e.Msg, tt.msg) {
			t.Errorf("%q: got kind %d offset %d pointer %q msg %q; want kind %d offset %d pointer %q msg ~%q",
				tt.in, e.Kind, e.Offset, e.Pointer, e.Msg, tt.kind, tt.offset, tt.pointer, tt.msg)
		}
		if e.Ambiguous() != (tt.kind == Duplicate || tt.kind == UTF8 || tt.kind == Surrogate) {
			t.Errorf("%q: Ambiguous() = %v", tt.in, e.Ambiguous())
		}
	}
}

// FuzzDecode checks Decode against encoding/json: every text Decode takes,
// encoding/json takes with the same value; every text encoding/json
// refuses, Decode refuses; and Decode refuses a text encoding/json takes
// only as ambiguous (a duplicate key, bad UTF-8, a lone surrogate).
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"a": 1, "b": [true, null, "x\u00e9", -1.5e3]}`, `{"a": 1, "a": 2}`, "\"\xff\"", `"\ud800"`,
		`[]`, `{}`, ` 0 `, `{"a": {"b": {"a": 1, "b": 2}}}`, `"\ud83d\ude00"`, `[1,]`, `{"a":1}{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Decode(data)
		want, stdErr := stdDecode(data)
		if err == nil {
			if stdErr != nil {
				t.Fatalf("Decode takes %q, encoding/json refuses it: %v", data, stdErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q: Decode gives %#v, encoding/json %#v", data, got, want)
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%q: error %T %v", data, err, err)
		}
		if e.Offset < 0 || e.Offset > len(data) || e.Msg == "" {
			t.Fatalf("%q: error out of place: %+v", data, e)
		}
		if stdErr == nil && !e.Ambiguous() {
			t.Fatalf("%q: Decode refuses (%v), encoding/json takes it", data, err)
		}
		if e.Kind == Duplicate && (e.First < 0 || e.First >= e.Offset) {
			t.Fatalf("%q: duplicate first at %d, second at %d", data, e.First, e.Offset)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	data := []byte(`{"applicantId": "64106d6b7d5a2d5159e6b01a", "inspectionId": "64106d6b7d5a2d5159e6b01b",
  "applicantType": "individual", "correlationId": "req-57fed49a-07b8-4413-bdaa-a1be903769e9",
  "levelName": "basic-kyc-level", "sandboxMode": false, "externalUserId": "12672", "type": "applicantWorkflowCompleted",
  "reviewResult": {"reviewAnswer": "RED", "rejectLabels": ["AGE_REQUIREMENT_MISMATCH"], "reviewRejectType": "FINAL", "buttonIds": []},
  "reviewStatus": "completed", "createdAt": "2023-03-14 12:50:27+0000", "createdAtMs": "2023-03-14 12:50:27.238", "clientId": "coolClientId"}`)
	b.Run("strictjson", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := Decode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := stdDecode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
