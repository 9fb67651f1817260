// Package jsonvalue compares decoded JSON values as JSON Schema's enum and
// const keywords do, whatever Go types the decoder produced.
package jsonvalue

import (
	"encoding/json"
	"math/big"
	"strconv"
)

// Number returns the value of a JSON number decoded as json.Number or as
// a Go number; ok is false for other values. A float is taken at its
// shortest decimal spelling (0.1 is 1/10), as the jsonschema validator
// reads it.
func Number(v any) (r *big.Rat, ok bool) {
	switch x := v.(type) {
	case json.Number:
		return new(big.Rat).SetString(string(x))
	case int:
		return new(big.Rat).SetInt64(int64(x)), true
	case int8:
		return new(big.Rat).SetInt64(int64(x)), true
	case int16:
		return new(big.Rat).SetInt64(int64(x)), true
	case int32:
		return new(big.Rat).SetInt64(int64(x)), true
	case int64:
		return new(big.Rat).SetInt64(x), true
	case uint:
		return new(big.Rat).SetUint64(uint64(x)), true
	case uint8:
		return new(big.Rat).SetUint64(uint64(x)), true
	case uint16:
		return new(big.Rat).SetUint64(uint64(x)), true
	case uint32:
		return new(big.Rat).SetUint64(uint64(x)), true
	case uint64:
		return new(big.Rat).SetUint64(x), true
	case float32:
		return new(big.Rat).SetString(strconv.FormatFloat(float64(x), 'g', -1, 32))
	case float64:
		return new(big.Rat).SetString(strconv.FormatFloat(x, 'g', -1, 64))
	}
	return nil, false
}

// Equal reports whether a and b are the same JSON value: numbers by value
// whatever their type or spelling (1, 1.0 and 1e0 are equal), arrays and
// objects member by member; a number never equals a string.
func Equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !Equal(xv, yv) {
				return false
			}
		}
		return true
	case json.Number:
		if y, ok := b.(json.Number); ok && x == y {
			return true
		}
	}
	ra, ok := Number(a)
	if !ok {
		return false
	}
	rb, ok := Number(b)
	return ok && ra.Cmp(rb) == 0
}
