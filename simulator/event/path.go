package event

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ParsePath splits a path into its tokens. Two syntaxes are accepted:
//
//   - a JSON pointer (RFC 6901), which starts with '/': "/reviewResult/rejectLabels/0";
//     "~1" stands for '/' and "~0" for '~' inside a token;
//   - a dotted path: "reviewResult.rejectLabels.0", where every character
//     but '.' is taken literally (use a pointer for keys holding a dot).
//
// A token is an object member name or, inside an array, a decimal index
// ("-" means one past the last element). An empty path, an empty token, a
// '~' not followed by '0' or '1' in a pointer, and text that is not UTF-8
// are errors.
func ParsePath(s string) ([]string, error) {
	if s == "" {
		return nil, errors.New("path is empty")
	}
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("path %s is not valid UTF-8", quoteShort(s))
	}
	if s[0] == '/' {
		parts := strings.Split(s[1:], "/")
		for i, p := range parts {
			if p == "" {
				return nil, fmt.Errorf("path %s: token %d is empty", quoteShort(s), i+1)
			}
			tok, err := unescapePointerToken(p)
			if err != nil {
				return nil, fmt.Errorf("path %s: token %d: %w", quoteShort(s), i+1, err)
			}
			parts[i] = tok
		}
		return parts, nil
	}
	parts := strings.Split(s, ".")
	for i, p := range parts {
		if p == "" {
			return nil, fmt.Errorf("path %s: token %d is empty (two dots in a row, or a dot at an end)", quoteShort(s), i+1)
		}
	}
	return parts, nil
}

func unescapePointerToken(p string) (string, error) {
	if strings.IndexByte(p, '~') < 0 {
		return p, nil
	}
	var sb strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '~' {
			sb.WriteByte(c)
			continue
		}
		if i+1 >= len(p) {
			return "", fmt.Errorf("%s ends in '~' (escape '~' as ~0)", quoteShort(p))
		}
		switch p[i+1] {
		case '0':
			sb.WriteByte('~')
		case '1':
			sb.WriteByte('/')
		default:
			return "", fmt.Errorf("%s has the bad escape ~%c (only ~0 and ~1 exist)", quoteShort(p), p[i+1])
		}
		i++
	}
	return sb.String(), nil
}

// quoteShort quotes s for an error message, cut short when it is long.
func quoteShort(s string) string {
	const limit = 80
	if len(s) <= limit {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:limit], len(s))
}

// FormatPointer renders tokens as a JSON pointer.
func FormatPointer(tokens []string) string {
	var sb strings.Builder
	for _, t := range tokens {
		sb.WriteByte('/')
		sb.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return sb.String()
}

// joinPath returns at followed by more, in a new slice.
func joinPath(at []string, more ...string) []string {
	out := make([]string, 0, len(at)+len(more))
	return append(append(out, at...), more...)
}

// pointerAt renders at followed by more as a JSON pointer.
func pointerAt(at []string, more ...string) string {
	return FormatPointer(joinPath(at, more...))
}

// arrayIndex reads token tok as an index into an array of length n;
// n itself (or "-") is accepted only when appending is allowed.
func arrayIndex(tok string, n int, appendOK bool) (int, error) {
	i := -1
	switch {
	case tok == "-":
		i = n
	case tok == "0":
		i = 0
	case tok != "" && tok[0] >= '1' && tok[0] <= '9' && strings.Trim(tok, "0123456789") == "":
		if v, err := strconv.Atoi(tok); err == nil {
			i = v
		}
	}
	if i < 0 {
		return 0, fmt.Errorf("%s is not an array index (a decimal number without leading zeros, or -)", quoteShort(tok))
	}
	if i < n || (appendOK && i == n) {
		return i, nil
	}
	if appendOK {
		return 0, fmt.Errorf("index %s is out of range: the array has %d element(s); use 0..%d, or %d (or -) to append", tok, n, n-1, n)
	}
	return 0, fmt.Errorf("index %s is out of range: the array has %d element(s)", tok, n)
}

// setIn stores val at toks inside c, an *Object or []any, creating missing
// objects on the way, and returns c (a new slice when an array grew). It
// checks the whole path before it changes anything, so a failed call
// leaves c as it was.
func setIn(c any, toks []string, val any, at []string) (any, error) {
	if err := checkSet(c, toks, at); err != nil {
		return c, err
	}
	return doSet(c, toks, val), nil
}

// checkSet reports why setIn would fail.
func checkSet(c any, toks []string, at []string) error {
	for i, tok := range toks {
		last := i == len(toks)-1
		switch cc := c.(type) {
		case *Object:
			if last {
				return nil
			}
			child, ok := cc.Get(tok)
			if !ok {
				return nil // the rest is created
			}
			c = child
		case []any:
			j, err := arrayIndex(tok, len(cc), true)
			if err != nil {
				return fmt.Errorf("at %s: %w", pointerAt(at, toks[:i+1]...), err)
			}
			if last || j == len(cc) {
				return nil
			}
			c = cc[j]
		default:
			return fmt.Errorf("at %s: %s is %s, not an object or array", pointerAt(at, toks[:i+1]...), pointerAt(at, toks[:i]...), kindOf(c))
		}
	}
	return nil
}

func doSet(c any, toks []string, val any) any {
	tok := toks[0]
	last := len(toks) == 1
	switch cc := c.(type) {
	case *Object:
		if last {
			cc.set(tok, val)
			return cc
		}
		child, ok := cc.Get(tok)
		if !ok {
			child = NewObject()
		}
		cc.set(tok, doSet(child, toks[1:], val))
		return cc
	case []any:
		j, _ := arrayIndex(tok, len(cc), true)
		if j == len(cc) {
			if last {
				return append(cc, val)
			}
			return append(cc, doSet(NewObject(), toks[1:], val))
		}
		if last {
			cc[j] = val
		} else {
			cc[j] = doSet(cc[j], toks[1:], val)
		}
		return cc
	}
	return c // not reached: checkSet has vetted the path
}

// unsetIn removes what is at toks inside c and returns c (a new slice when
// an array shrank).
func unsetIn(c any, toks []string, at []string) (any, error) {
	tok := toks[0]
	last := len(toks) == 1
	here := pointerAt(at, tok)
	switch cc := c.(type) {
	case *Object:
		child, ok := cc.Get(tok)
		if !ok {
			return c, fmt.Errorf("nothing at %s", here)
		}
		if last {
			cc.Delete(tok)
			return cc, nil
		}
		nc, err := unsetIn(child, toks[1:], joinPath(at, tok))
		if err != nil {
			return c, err
		}
		cc.set(tok, nc)
		return cc, nil
	case []any:
		j, err := arrayIndex(tok, len(cc), false)
		if err != nil {
			return c, fmt.Errorf("nothing at %s: %w", here, err)
		}
		if last {
			return append(cc[:j:j], cc[j+1:]...), nil
		}
		nc, err := unsetIn(cc[j], toks[1:], joinPath(at, tok))
		if err != nil {
			return c, err
		}
		cc[j] = nc
		return cc, nil
	}
	return c, fmt.Errorf("nothing at %s: %s is %s, not an object or array", here, FormatPointer(at), kindOf(c))
}

// getIn returns what is at toks inside c.
func getIn(c any, toks []string) (any, bool) {
	for _, tok := range toks {
		switch cc := c.(type) {
		case *Object:
			v, ok := cc.Get(tok)
			if !ok {
				return nil, false
			}
			c = v
		case []any:
			j, err := arrayIndex(tok, len(cc), false)
			if err != nil {
				return nil, false
			}
			c = cc[j]
		default:
			return nil, false
		}
	}
	return c, true
}
