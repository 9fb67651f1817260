package format

import (
	"net/netip"
	"net/url"
	"strings"
)

// civil holds the fields of a timestamp read by the byte-level parsers.
type civil struct {
	year, month, day int
	hour, min, sec   int
	nsec             int // nsec is the fraction of a second, in nanoseconds.
	digits           int // digits is how many fraction digits the input had.
	offset           int // offset is the zone offset east of UTC, in seconds.
}

// num2 reads two decimal digits at s[i:i+2]; the caller ensures the bounds.
func num2(s string, i int) (int, bool) {
	a, b := s[i]-'0', s[i+1]-'0'
	if a > 9 || b > 9 {
		return 0, false
	}
	return int(a)*10 + int(b), true
}

// num4 reads four decimal digits at s[i:i+4]; the caller ensures the bounds.
func num4(s string, i int) (int, bool) {
	hi, ok1 := num2(s, i)
	lo, ok2 := num2(s, i+2)
	return hi*100 + lo, ok1 && ok2
}

func isLeap(year int) bool {
	return year%4 == 0 && (year%100 != 0 || year%400 == 0)
}

// daysIn returns the number of days in month (1-12) of year.
func daysIn(month, year int) int {
	switch month {
	case 2:
		if isLeap(year) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// parseDate reads YYYY-MM-DD at the start of s, which must be at least 10
// bytes long, and checks that it is a real calendar date.
func parseDate(s string, c *civil) bool {
	if s[4] != '-' || s[7] != '-' {
		return false
	}
	y, ok1 := num4(s, 0)
	m, ok2 := num2(s, 5)
	d, ok3 := num2(s, 8)
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(m, y) {
		return false
	}
	c.year, c.month, c.day = y, m, d
	return true
}

// parseClock reads hh:mm:ss at s[i:i+8]; the caller ensures the bounds.
// Leap seconds (60) are not accepted.
func parseClock(s string, i int, c *civil) bool {
	if s[i+2] != ':' || s[i+5] != ':' {
		return false
	}
	h, ok1 := num2(s, i)
	m, ok2 := num2(s, i+3)
	sec, ok3 := num2(s, i+6)
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 59 {
		return false
	}
	c.hour, c.min, c.sec = h, m, sec
	return true
}

// parseFraction reads the fraction digits s[i:j] (1 to 9 of them) into c.
func parseFraction(s string, i, j int, c *civil) bool {
	n := 0
	for k := i; k < j; k++ {
		d := s[k] - '0'
		if d > 9 {
			return false
		}
		n = n*10 + int(d)
	}
	c.digits = j - i
	for k := c.digits; k < 9; k++ {
		n *= 10
	}
	c.nsec = n
	return true
}

// parseJumio reads a Jumio timestamp: YYYY-MM-DDThh:mm:ss followed by an
// optional '.' and 1 to 3 digits, and a final 'Z'.
func parseJumio(s string, c *civil) bool {
	n := len(s)
	switch n {
	case 20:
	case 22, 23, 24:
		if s[19] != '.' || !parseFraction(s, 20, n-1, c) {
			return false
		}
	default:
		return false
	}
	return s[10] == 'T' && s[n-1] == 'Z' && parseDate(s, c) && parseClock(s, 11, c)
}

// parseSumsubMs reads a Sumsub createdAtMs value: yyyy-MM-dd HH:mm:ss.fff.
func parseSumsubMs(s string, c *civil) bool {
	return len(s) == 23 && s[10] == ' ' && s[19] == '.' &&
		parseDate(s, c) && parseClock(s, 11, c) && parseFraction(s, 20, 23, c)
}

// parseSumsubCreated reads a Sumsub createdAt value:
// yyyy-MM-dd HH:mm:ss+hhmm, where the sign may also be '-'.
func parseSumsubCreated(s string, c *civil) bool {
	if len(s) != 24 || s[10] != ' ' || (s[19] != '+' && s[19] != '-') {
		return false
	}
	oh, ok1 := num2(s, 20)
	om, ok2 := num2(s, 22)
	if !ok1 || !ok2 || oh > 14 || om > 59 {
		return false
	}
	c.offset = oh*3600 + om*60
	if s[19] == '-' {
		c.offset = -c.offset
	}
	return parseDate(s, c) && parseClock(s, 11, c)
}

// IsJumioTimestamp reports whether s is a Jumio UTC timestamp:
// YYYY-MM-DDThh:mm:ssZ with 0, 1, 2 or 3 millisecond digits after a '.'.
func IsJumioTimestamp(s string) bool {
	var c civil
	return parseJumio(s, &c)
}

// IsSumsubCreatedAtMs reports whether s is a Sumsub createdAtMs value,
// yyyy-MM-dd HH:mm:ss.fff with exactly three fraction digits and no zone.
func IsSumsubCreatedAtMs(s string) bool {
	var c civil
	return parseSumsubMs(s, &c)
}

// IsSumsubCreatedAt reports whether s is a Sumsub createdAt value,
// yyyy-MM-dd HH:mm:ss+hhmm with sign + or -, hh 00-14 and mm 00-59.
func IsSumsubCreatedAt(s string) bool {
	var c civil
	return parseSumsubCreated(s, &c)
}

// IsDate reports whether s is a real calendar date in the form YYYY-MM-DD.
func IsDate(s string) bool {
	var c civil
	return len(s) == 10 && parseDate(s, &c)
}

// IsISO3166Alpha3 reports whether s is an officially assigned ISO 3166-1
// alpha-3 country code, or XKX (Kosovo). Only uppercase is accepted.
func IsISO3166Alpha3(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	_, ok := countries[s]
	return ok
}

// hexDigit marks the bytes that are hexadecimal digits, in either case.
var hexDigit = [256]bool{
	'0': true, '1': true, '2': true, '3': true, '4': true,
	'5': true, '6': true, '7': true, '8': true, '9': true,
	'a': true, 'b': true, 'c': true, 'd': true, 'e': true, 'f': true,
	'A': true, 'B': true, 'C': true, 'D': true, 'E': true, 'F': true,
}

// IsUUID reports whether s is a UUID in canonical 8-4-4-4-12 hexadecimal
// form. Upper- and lowercase hex digits are both accepted.
func IsUUID(s string) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	for i := 0; i < 36; i++ {
		if !hexDigit[s[i]] && i != 8 && i != 13 && i != 18 && i != 23 {
			return false
		}
	}
	return true
}

// hasPrefixFold reports whether s begins with prefix, which must be
// lowercase ASCII, ignoring ASCII case in s.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		b := s[i]
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if b != prefix[i] {
			return false
		}
	}
	return true
}

// IsURL reports whether s is an absolute http or https URL with a non-empty
// host. The scheme is matched without regard to case; ASCII control
// characters and spaces are rejected anywhere in s.
func IsURL(s string) bool {
	if !hasPrefixFold(s, "http://") && !hasPrefixFold(s, "https://") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	if plainURL(s) {
		return true
	}
	return isURLParsed(s)
}

// IsPlainURL reports, without parsing, an http or https URL of the
// common shape: a host name of letters, digits, dots and hyphens with an
// optional numeric port, then a path, query and fragment of unreserved and
// reserved characters and valid percent-escapes, nothing else. Such a URL
// is one by IsURL and by any RFC 3986 check; false says nothing.
func IsPlainURL(s string) bool {
	return (hasPrefixFold(s, "http://") || hasPrefixFold(s, "https://")) && plainURL(s)
}

// isURLParsed is IsURL's rule after the scheme and control-character
// checks, by net/url.
func isURLParsed(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Hostname() != ""
}

// plainURL reports, without parsing, an http(s) URL of the common shape
// that net/url parses with a host: a host name of letters, digits, dots and
// hyphens with an optional numeric port, then a path, query and fragment
// of unreserved and reserved characters and valid percent-escapes. False
// says nothing: the URL is then parsed.
func plainURL(s string) bool {
	i := strings.Index(s, "://") + 3
	start := i
	for i < len(s) && (isAlnum(s[i]) || s[i] == '.' || s[i] == '-') {
		i++
	}
	if i == start {
		return false
	}
	if i < len(s) && s[i] == ':' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && s[i] != '/' && s[i] != '?' && s[i] != '#' {
		return false
	}
	hashes := 0
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case urlPlain[c]:
		case c == '#':
			hashes++
			if hashes > 1 {
				return false
			}
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			i += 2
		default:
			return false
		}
	}
	return true
}

// urlPlain marks the bytes a plain URL's path, query and fragment may
// hold as they are: RFC 3986's unreserved and reserved characters but '#',
// '[' and ']'.
var urlPlain = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = isAlnum(byte(c)) || strings.IndexByte("-._~!$&'()*+,;=:@/?", byte(c)) >= 0
	}
	return t
}()

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// IsIPv4 reports whether s is a dotted-quad IPv4 address whose four parts
// are decimal numbers 0-255 without leading zeros (a lone "0" is allowed).
func IsIPv4(s string) bool {
	if len(s) < 7 || len(s) > 15 {
		return false
	}
	i := 0
	for part := 0; part < 4; part++ {
		if part > 0 {
			if i >= len(s) || s[i] != '.' {
				return false
			}
			i++
		}
		start, n := i, 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if i-start == 3 {
				return false
			}
			n = n*10 + int(s[i]-'0')
			i++
		}
		if i == start || n > 255 || (i-start > 1 && s[start] == '0') {
			return false
		}
	}
	return i == len(s)
}

// IsIP reports whether s is an IPv4 address as accepted by IsIPv4, or an
// IPv6 address (including IPv4-mapped and embedded forms) without a zone.
func IsIP(s string) bool {
	if strings.IndexByte(s, ':') < 0 {
		return IsIPv4(s)
	}
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6() && a.Zone() == ""
}
