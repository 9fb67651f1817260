package event

import (
	"slices"
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "type", want: []string{"type"}},
		{in: "reviewResult.rejectLabels", want: []string{"reviewResult", "rejectLabels"}},
		{in: "a.b.0.c", want: []string{"a", "b", "0", "c"}},
		{in: "/reviewResult/rejectLabels", want: []string{"reviewResult", "rejectLabels"}},
		{in: "/a~1b/c~0d", want: []string{"a/b", "c~d"}},
		{in: "/~01", want: []string{"~1"}},
		{in: "/~10", want: []string{"/0"}},
		{in: "/a.b", want: []string{"a.b"}},
		{in: "a/b~0", want: []string{"a/b~0"}},
		{in: "/-", want: []string{"-"}},
		{in: "/ä/€", want: []string{"ä", "€"}},
		{in: "", wantErr: "path is empty"},
		{in: "/", wantErr: "token 1 is empty"},
		{in: "/a/", wantErr: "token 2 is empty"},
		{in: "/a//b", wantErr: "token 2 is empty"},
		{in: ".a", wantErr: "token 1 is empty"},
		{in: "a.", wantErr: "token 2 is empty"},
		{in: "a..b", wantErr: "token 2 is empty"},
		{in: ".", wantErr: "token 1 is empty"},
		{in: "/a~", wantErr: "ends in '~'"},
		{in: "/a~2", wantErr: "bad escape ~2"},
		{in: "/~a", wantErr: "bad escape ~a"},
		{in: "a\xffb", wantErr: "not valid UTF-8"},
	}
	for _, tc := range tests {
		got, err := ParsePath(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParsePath(%q) = %q, %v; want an error containing %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParsePath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestFormatPointerRoundTrip(t *testing.T) {
	for _, toks := range [][]string{{"a"}, {"a/b", "c~d"}, {"~1", "/0"}, {"x", "0", "-"}} {
		p := FormatPointer(toks)
		got, err := ParsePath(p)
		if err != nil || !slices.Equal(got, toks) {
			t.Errorf("ParsePath(FormatPointer(%q)) = %q, %v (pointer %s)", toks, got, err, p)
		}
	}
}

func TestArrayIndex(t *testing.T) {
	tests := []struct {
		tok      string
		n        int
		appendOK bool
		want     int
		wantErr  string
	}{
		{"0", 1, false, 0, ""},
		{"2", 3, false, 2, ""},
		{"3", 3, true, 3, ""},
		{"-", 3, true, 3, ""},
		{"3", 3, false, 0, "out of range"},
		{"-", 3, false, 0, "out of range"},
		{"0", 0, false, 0, "out of range"},
		{"4", 3, true, 0, "out of range"},
		{"01", 3, true, 0, "not an array index"},
		{"1a", 3, true, 0, "not an array index"},
		{"+1", 3, true, 0, "not an array index"},
		{"", 3, true, 0, "not an array index"},
		{"99999999999999999999999", 3, true, 0, "not an array index"},
	}
	for _, tc := range tests {
		got, err := arrayIndex(tc.tok, tc.n, tc.appendOK)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("arrayIndex(%q, %d, %v) = %d, %v; want error %q", tc.tok, tc.n, tc.appendOK, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("arrayIndex(%q, %d, %v) = %d, %v; want %d", tc.tok, tc.n, tc.appendOK, got, err, tc.want)
		}
	}
}
