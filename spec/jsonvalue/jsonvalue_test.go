package jsonvalue

import (
	"encoding/json"
	"testing"
)

func TestEqual(t *testing.T) {
	for _, tt := range []struct {
		a, b any
		want bool
	}{
		{json.Number("1"), 1, true},
		{json.Number("1.0"), json.Number("1e0"), true},
		{json.Number("0.1"), 0.1, true},
		{float32(0.5), json.Number("0.5"), true},
		{uint8(3), int64(3), true},
		{json.Number("1"), "1", false},
		{"1", json.Number("1"), false},
		{nil, nil, true},
		{nil, false, false},
		{true, true, true},
		{[]any{1, "a"}, []any{json.Number("1.0"), "a"}, true},
		{[]any{1}, []any{1, 2}, false},
		{map[string]any{"a": 1}, map[string]any{"a": 1.0}, true},
		{map[string]any{"a": 1}, map[string]any{"b": 1}, false},
		{map[string]any{"a": 1}, map[string]any{"a": 1, "b": 2}, false},
		{struct{}{}, struct{}{}, false},
	} {
		if got := Equal(tt.a, tt.b); got != tt.want {
			t.Errorf("Equal(%#v, %#v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := Equal(tt.b, tt.a); got != tt.want {
			t.Errorf("Equal(%#v, %#v) = %v, want %v (reversed)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestNumber(t *testing.T) {
	if _, ok := Number("1"); ok {
		t.Error("a string is a number")
	}
	if r, ok := Number(json.Number("2.50")); !ok || r.FloatString(1) != "2.5" {
		t.Errorf("Number(2.50) = %v %v", r, ok)
	}
}
