package safetext

import (
	"encoding/json"
	"encoding/xml"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestTerminal(t *testing.T) {
	for _, tt := range []struct{ in, term, line string }{
		{"", "", ""},
		{`{"ok":true}`, `{"ok":true}`, `{"ok":true}`},
		{"héllo, 世界 🙂", "héllo, 世界 🙂", "héllo, 世界 🙂"},
		{"a\nb\tc", "a\nb\tc", `a\x0ab\x09c`},
		{"\x1b[2J", `\x1b[2J`, `\x1b[2J`},
		{"\x1b]52;c;ZXZpbA==\x07", `\x1b]52;c;ZXZpbA==\x07`, `\x1b]52;c;ZXZpbA==\x07`},
		{"\x00\x0b\x0c\r\x7f", `\x00\x0b\x0c\x0d\x7f`, `\x00\x0b\x0c\x0d\x7f`},
		{"\u009b2J \u0085", `\u009b2J \u0085`, `\u009b2J \u0085`},
		{"\xff\xfe", `\xff\xfe`, `\xff\xfe`},
		{"\xc2\x9b", `\u009b`, `\u009b`},                 // C1 CSI as UTF-8
		{"\xed\xa0\x80", `\xed\xa0\x80`, `\xed\xa0\x80`}, // a lone surrogate
		{"abc\u202edef", `abc\u202edef`, `abc\u202edef`},
		{"\ufffe\uffff\ufffd", `\ufffe\uffff` + "\ufffd", `\ufffe\uffff` + "\ufffd"},
		// Backslashes: kept where they cannot be misread, doubled where
		// they could.
		{`{"e":"bad \"sig\"\n"}`, `{"e":"bad \"sig\"\n"}`, `{"e":"bad \"sig\"\n"}`},
		{`C:\x1b`, `C:\\x1b`, `C:\\x1b`},
		{`\u0085`, `\\u0085`, `\\u0085`},
		{`a\\b`, `a\\\b`, `a\\\b`},
		{"\\\x1b", `\\\x1b`, `\\\x1b`},
		{"\\\n", "\\\n", `\\\x0a`},
		{`trailing\`, `trailing\`, `trailing\`},
	} {
		if got := Terminal(tt.in); got != tt.term {
			t.Errorf("Terminal(%q) = %q, want %q", tt.in, got, tt.term)
		}
		if got := TerminalLine(tt.in); got != tt.line {
			t.Errorf("TerminalLine(%q) = %q, want %q", tt.in, got, tt.line)
		}
	}
}

func TestXML(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"<script>alert(1)</script> ]]>", "<script>alert(1)</script> ]]>"},
		{"a\tb\nc\rd", "a\tb\nc\rd"},
		{"\x00\x0b\x1b[2J", `\x00\x0b\x1b[2J`},
		{"\ufffe\uffff\ufffd", `\ufffe\uffff` + "\ufffd"},
		{"\xff \xed\xa0\x80", `\xff \xed\xa0\x80`},
		{"\x7f\u0085", `\x7f\u0085`},
		{"abc\u202edef 🙂", "abc\u202edef 🙂"},
		{`\x00`, `\\x00`},
	} {
		if got := XML(tt.in); got != tt.want {
			t.Errorf("XML(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// unescape reads the escaped form back (see the package comment).
func unescape(t *testing.T, s string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '\\':
			b.WriteByte('\\')
			i++
		case 'x', 'u':
			digits := 2
			if s[i+1] == 'u' {
				digits = 4
			}
			if i+2+digits > len(s) {
				t.Fatalf("truncated escape in %q", s)
			}
			v, err := strconv.ParseUint(s[i+2:i+2+digits], 16, 32)
			if err != nil {
				t.Fatalf("bad escape in %q: %v", s, err)
			}
			if digits == 2 {
				b.WriteByte(byte(v))
			} else {
				b.WriteRune(rune(v))
			}
			i += 1 + digits
		default:
			b.WriteByte('\\')
		}
	}
	return b.String()
}

func fuzzSeeds(f *testing.F) {
	for _, s := range []string{
		"", "plain", "a\nb\tc\rd", "\x1b[2J\x1b]52;c;ZXZpbA==\x07", "\x00\x0b\x7f", "\u0085\u009b", "\xff\xfe\xc2",
		"\ufffe\uffff", "\xed\xa0\x80", `\x1b`, `\\`, "\\\x1b", `\u`, "<script>alert(1)</script>]]>", "\u202e", `x\`,
	} {
		f.Add(s)
	}
}

// FuzzTerminal checks that the output holds nothing a terminal acts on
// and only characters XML allows, that it reads back as the input, and that printable text (with no
// backslash) comes back unchanged.
func FuzzTerminal(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, line := range []bool{false, true} {
			out := Terminal(s)
			if line {
				out = TerminalLine(s)
			}
			if !utf8.ValidString(out) {
				t.Fatalf("line %v: invalid UTF-8 in %q", line, out)
			}
			for _, r := range out {
				if terminalUnsafe(r) && (line || (r != '\n' && r != '\t')) {
					t.Fatalf("line %v: %q in %q", line, r, out)
				}
				if !xmlAllowed(r) {
					t.Fatalf("line %v: %q, which XML forbids, in %q", line, r, out)
				}
			}
			if back := unescape(t, out); back != s {
				t.Fatalf("line %v: %q reads back as %q, not %q", line, out, back, s)
			}
		}
		printable := utf8.ValidString(s) && !strings.ContainsRune(s, '\\')
		for _, r := range s {
			printable = printable && (unicode.IsPrint(r) || r == '\n' || r == '\t')
		}
		if printable && Terminal(s) != s {
			t.Fatalf("printable %q became %q", s, Terminal(s))
		}
	})
}

// xmlAllowed reports whether XML 1.0 allows r (production Char).
func xmlAllowed(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xd7ff) || (r >= 0xe000 && r <= 0xfffd) || (r >= 0x10000 && r <= 0x10ffff)
}

// FuzzXML checks that the output holds only characters XML 1.0 allows,
// that encoding/xml reads it back from a document unchanged, and that it
// reads back as the input.
func FuzzXML(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		out := XML(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 in %q", out)
		}
		for _, r := range out {
			if !xmlAllowed(r) || (r >= 0x7f && r <= 0x9f) {
				t.Fatalf("%q in %q", r, out)
			}
		}
		if back := unescape(t, out); back != s {
			t.Fatalf("%q reads back as %q, not %q", out, back, s)
		}
		type doc struct {
			Attr  string `xml:"a,attr"`
			CDATA string `xml:",cdata"`
		}
		enc, err := xml.Marshal(doc{Attr: out, CDATA: out})
		if err != nil {
			t.Fatal(err)
		}
		var got doc
		if err := xml.Unmarshal(enc, &got); err != nil {
			t.Fatalf("%s does not parse: %v", enc, err)
		}
		// XML parsers turn \r\n and \r into \n in text.
		norm := strings.ReplaceAll(strings.ReplaceAll(out, "\r\n", "\n"), "\r", "\n")
		if got.CDATA != norm || got.Attr != out {
			t.Fatalf("read back %q / %q, want %q", got.Attr, got.CDATA, out)
		}
	})
}

func TestJSON(t *testing.T) {
	in := []byte("{\"a\":\"x\x7fy\u0085\u009b\u202e\ufffe\u00e9\ud7ff\"}")
	want := `{"a":"x\u007fy\u0085\u009b\u202e\ufffe` + "é\ud7ff" + `"}`
	if got := string(JSON(in)); got != want {
		t.Errorf("JSON(%q) = %q, want %q", in, got, want)
	}
	plain := []byte(`{"a":"héllo \u001b"}`)
	if got := JSON(plain); &got[0] != &plain[0] {
		t.Error("JSON copied a document it did not change")
	}
}

// FuzzJSON checks that JSON leaves nothing a terminal acts on in an
// encoded string, and that the document decodes to the same string.
func FuzzJSON(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		enc, err := json.Marshal(map[string]string{"k": s})
		if err != nil {
			t.Fatal(err)
		}
		out := JSON(enc)
		for _, r := range string(out) {
			if terminalUnsafe(r) {
				t.Fatalf("%q in %s", r, out)
			}
		}
		var a, b map[string]string
		if err := json.Unmarshal(enc, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &b); err != nil || a["k"] != b["k"] {
			t.Fatalf("%s decodes as %q (%v), not %q", out, b["k"], err, a["k"])
		}
	})
}
