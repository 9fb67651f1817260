// Package safetext makes text that came from elsewhere (a receiver's
// status line, headers and body) safe to show: on a terminal, where
// control characters could move the cursor, clear the screen, set the
// window title or write the clipboard (OSC 52), and in XML, which
// forbids most control characters outright.
//
// Every function here replaces the characters it must not pass with a
// visible escape, and leaves all other text as it is:
//
//   - \xHH for an ASCII control character (U+0000–U+001F, U+007F) and
//     for a byte that is not part of valid UTF-8 (\xff): two lower-case
//     hex digits;
//   - \uHHHH for any other escaped character, such as a C1 control
//     (\u009b), a bidirectional override (\u202e) or U+FFFE (\ufffe):
//     four lower-case hex digits.
//
// The output is unambiguous: a backslash in the input is doubled where
// it would otherwise read as the start of an escape, that is before
// another backslash, before 'x' or 'u', and before a character that is
// itself escaped. Every other backslash is left alone, so that a JSON
// answer such as {"error":"bad \"sig\""} reads as it was sent. Reading
// the output back, \\ is a backslash, \xHH a byte, \uHHHH a character,
// and a backslash followed by anything else is itself.
package safetext

import (
	"strings"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// Terminal returns s safe to print on a terminal as a multi-line text:
// newlines and tabs are kept, and every other C0 control (NUL, BEL, BS,
// CR, VT, FF, ESC, ...), DEL, every C1 control (U+0080–U+009F, CSI and
// OSC among them), every bidirectional embedding, override and isolate
// (U+202A–U+202E, U+2066–U+2069), and every byte that is not valid
// UTF-8 are escaped, and so are the noncharacters U+FFFE and U+FFFF, so
// that the output is also valid XML 1.0 character data. Printable text
// comes back unchanged (but for a backslash before another backslash, an
// 'x' or a 'u', which is doubled).
func Terminal(s string) string {
	return escape(s, func(r rune) bool { return r != '\n' && r != '\t' && terminalUnsafe(r) })
}

// TerminalLine is Terminal for a one-line context (a header value, a
// reason, a status line): it escapes newlines and tabs too, so that the
// text cannot start a line of its own.
func TerminalLine(s string) string {
	return escape(s, terminalUnsafe)
}

// XML returns s with every character that XML 1.0 does not allow
// escaped: the C0 controls other than tab, newline and carriage return,
// U+FFFE, U+FFFF, and every byte that is not valid UTF-8 (which covers
// surrogate halves encoded on their own). It also escapes DEL and the C1
// controls, which XML 1.0 discourages and which a terminal showing the
// file could act on. The result can go into any XML text, attribute or
// CDATA section; escaping markup (<, &, ]]>) is left to the XML encoder.
func XML(s string) string {
	return escape(s, xmlUnsafe)
}

// JSON returns an encoded JSON document (as encoding/json writes it:
// valid UTF-8) with the characters Terminal escapes that the encoder
// leaves as they are (DEL, the C1 controls, the bidirectional controls,
// U+FFFE, U+FFFF) written as \uHHHH escapes instead. The document means
// the same, and is safe to print. Such characters can only occur
// inside JSON strings, where \uHHHH is their standard escape.
func JSON(b []byte) []byte {
	var out []byte
	last := 0
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r >= 0x7f && !(r == utf8.RuneError && n == 1) && terminalUnsafe(r) {
			if out == nil {
				out = make([]byte, 0, len(b)+16)
			}
			out = append(out, b[last:i]...)
			out = append(out, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
			last = i + n
		}
		i += n
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// terminalUnsafe reports whether a terminal could act on r (or, for
// U+FFFE and U+FFFF, whether XML forbids it).
func terminalUnsafe(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) ||
		r == 0xfffe || r == 0xffff
}

// xmlUnsafe reports whether r is not allowed (or is a control character
// discouraged) in XML 1.0. Surrogates never reach it: they are not valid
// UTF-8.
func xmlUnsafe(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return false
	case r < 0x20 || (r >= 0x7f && r <= 0x9f):
		return true
	}
	return r == 0xfffe || r == 0xffff
}

// escape escapes the runes unsafe reports and the invalid bytes, and
// doubles the backslashes that would otherwise be ambiguous. It returns s
// itself when there is nothing to change.
func escape(s string, unsafe func(rune) bool) string {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || unsafe(r) || (r == '\\' && needsDouble(s[i+1:], unsafe)) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			writeHex(&b, 'x', uint32(s[i]), 2)
		case unsafe(r):
			if r < 0x80 {
				writeHex(&b, 'x', uint32(r), 2)
			} else {
				writeHex(&b, 'u', uint32(r), 4)
			}
		case r == '\\' && needsDouble(s[i+n:], unsafe):
			b.WriteString(`\\`)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// needsDouble reports whether a backslash followed by rest must be
// doubled: when what follows it in the output would begin with a
// backslash, an 'x' or a 'u'.
func needsDouble(rest string, unsafe func(rune) bool) bool {
	if rest == "" {
		return false
	}
	r, n := utf8.DecodeRuneInString(rest)
	return r == '\\' || r == 'x' || r == 'u' || (r == utf8.RuneError && n == 1) || unsafe(r)
}

// writeHex writes \ kind and v as digits lower-case hex digits.
func writeHex(b *strings.Builder, kind byte, v uint32, digits int) {
	b.WriteByte('\\')
	b.WriteByte(kind)
	for shift := 4 * (digits - 1); shift >= 0; shift -= 4 {
		b.WriteByte(hexDigits[(v>>uint(shift))&0xf])
	}
}
