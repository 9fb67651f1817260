package format

import "time"

// Layouts for time.Format that render each shape in UTC.
var jumioLayouts = [4]string{
	"2006-01-02T15:04:05Z",
	"2006-01-02T15:04:05.0Z",
	"2006-01-02T15:04:05.00Z",
	"2006-01-02T15:04:05.000Z",
}

const (
	sumsubMsLayout      = "2006-01-02 15:04:05.000"
	sumsubCreatedLayout = "2006-01-02 15:04:05-0700"
)

// FormatJumioTimestamp renders t in UTC with the given number of millisecond
// digits (0..3; other values are clamped into 0..3). Digits are truncated,
// not rounded. The result is a valid jumio-timestamp only for years
// 0000-9999.
func FormatJumioTimestamp(t time.Time, digits int) string {
	digits = min(max(digits, 0), 3)
	return t.UTC().Format(jumioLayouts[digits])
}

// ParseJumioTimestamp parses any of the four Jumio shapes
// (YYYY-MM-DDThh:mm:ssZ with 0 to 3 millisecond digits) and reports how many
// millisecond digits it had. It accepts exactly the strings that the
// jumio-timestamp checker accepts; for any other string it returns a
// *ParseError that names the input and wraps ErrInvalid. The time is in UTC.
func ParseJumioTimestamp(s string) (time.Time, int, error) {
	var c civil
	if !parseJumio(s, &c) {
		return time.Time{}, 0, &ParseError{Format: NameJumioTimestamp, Input: s, Expected: expectedJumio}
	}
	return c.time(time.UTC), c.digits, nil
}

// FormatSumsubCreatedAtMs renders t in UTC as a Sumsub createdAtMs value,
// yyyy-MM-dd HH:mm:ss.fff, with the milliseconds truncated.
func FormatSumsubCreatedAtMs(t time.Time) string {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.Format(sumsubMsLayout)
	}
	// By hand: time.Format's general layout machinery costs several
	// times more, and the simulator stamps every event.
	hour, min, sec := t.Clock()
	var b [23]byte
	put := func(i, v, n int) {
		for j := i + n - 1; j >= i; j-- {
			b[j] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, year, 4)
	b[4] = '-'
	put(5, int(month), 2)
	b[7] = '-'
	put(8, day, 2)
	b[10] = ' '
	put(11, hour, 2)
	b[13] = ':'
	put(14, min, 2)
	b[16] = ':'
	put(17, sec, 2)
	b[19] = '.'
	put(20, t.Nanosecond()/1e6, 3)
	return string(b[:])
}

// ParseSumsubCreatedAtMs parses a Sumsub createdAtMs value,
// yyyy-MM-dd HH:mm:ss.fff, as a UTC time. It accepts exactly the strings that
// the sumsub-created-at-ms checker accepts; for any other string it returns
// a *ParseError that names the input and wraps ErrInvalid.
func ParseSumsubCreatedAtMs(s string) (time.Time, error) {
	var c civil
	if !parseSumsubMs(s, &c) {
		return time.Time{}, &ParseError{Format: NameSumsubCreatedAtMs, Input: s, Expected: expectedSumsubMs}
	}
	return c.time(time.UTC), nil
}

// FormatSumsubCreatedAt renders t in UTC as a Sumsub createdAt value,
// yyyy-MM-dd HH:mm:ss+0000.
func FormatSumsubCreatedAt(t time.Time) string {
	return t.UTC().Format(sumsubCreatedLayout)
}

// ParseSumsubCreatedAt parses a Sumsub createdAt value,
// yyyy-MM-dd HH:mm:ss+hhmm. It accepts exactly the strings that the
// sumsub-created-at checker accepts; for any other string it returns a
// *ParseError that names the input and wraps ErrInvalid. A zero offset
// (+0000 or -0000) yields a time in UTC; any other offset yields a time in a
// fixed zone with that offset.
func ParseSumsubCreatedAt(s string) (time.Time, error) {
	var c civil
	if !parseSumsubCreated(s, &c) {
		return time.Time{}, &ParseError{Format: NameSumsubCreatedAt, Input: s, Expected: expectedSumsubCreated}
	}
	loc := time.UTC
	if c.offset != 0 {
		loc = time.FixedZone("", c.offset)
	}
	return c.time(loc), nil
}

// time returns the instant that c denotes in loc. The parsers have already
// checked every field's range, so time.Date does not normalize anything.
func (c *civil) time(loc *time.Location) time.Time {
	return time.Date(c.year, time.Month(c.month), c.day, c.hour, c.min, c.sec, c.nsec, loc)
}
