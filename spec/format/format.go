// Package format defines the named string formats that appear in KYC vendor
// webhook payloads (Jumio and Sumsub) and the checkers that validate them.
//
// The checkers follow JSON Schema semantics: a value that is not a string
// always passes, because a format only constrains strings. They are written
// by hand over bytes so that validating a well-formed value does not
// allocate; they are meant to be handed to a JSON Schema compiler through
// Checkers.
//
// The package also provides helpers that render and parse the vendor
// timestamp shapes. Each Parse helper accepts exactly the strings that the
// checker of the same format accepts.
package format

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Format is a named string format used in vendor payloads.
type Format struct {
	// Name is the format name used in JSON Schema "format" keywords, e.g.
	// "jumio-timestamp".
	Name string
	// Expected is a human description of the expected shape, for error
	// messages, e.g. "YYYY-MM-DDThh:mm:ssZ with 0 to 3 millisecond digits
	// (UTC)".
	Expected string
	// Check reports whether v is acceptable: it is true when v is not a
	// string, or is a valid string of this format.
	Check func(v any) bool
}

// ErrInvalid is the error that every ParseError wraps, so that callers can
// test for a malformed value with errors.Is.
var ErrInvalid = errors.New("invalid format")

// ParseError reports a string that does not match a format.
type ParseError struct {
	Format   string // Format is the name of the format, e.g. "jumio-timestamp".
	Input    string // Input is the rejected string.
	Expected string // Expected is the human description of the expected shape.
}

// Error returns a message naming the input, the format and the expected shape.
func (e *ParseError) Error() string {
	return fmt.Sprintf("format: %q is not a valid %s: expected %s", e.Input, e.Format, e.Expected)
}

// Unwrap returns ErrInvalid.
func (e *ParseError) Unwrap() error { return ErrInvalid }

// Names of the formats, as used in JSON Schema "format" keywords.
const (
	NameDate              = "date"
	NameIP                = "ip"
	NameIPv4              = "ipv4"
	NameISO3166Alpha3     = "iso3166-alpha3"
	NameJumioTimestamp    = "jumio-timestamp"
	NameSumsubCreatedAt   = "sumsub-created-at"
	NameSumsubCreatedAtMs = "sumsub-created-at-ms"
	NameURL               = "url"
	NameUUID              = "uuid"
)

// Human descriptions of the expected shapes, used in Format.Expected and in
// ParseError messages.
const (
	expectedDate          = "YYYY-MM-DD (a real calendar date)"
	expectedIP            = "an IPv4 address in dotted-quad form or an IPv6 address without a zone"
	expectedIPv4          = "a dotted-quad IPv4 address (parts 0-255, no leading zeros)"
	expectedISO3166Alpha3 = "an uppercase ISO 3166-1 alpha-3 country code, or XKX for Kosovo"
	expectedJumio         = "YYYY-MM-DDThh:mm:ssZ with 0 to 3 millisecond digits (UTC)"
	expectedSumsubCreated = "yyyy-MM-dd HH:mm:ss+hhmm (sign + or -, hh 00-14, mm 00-59)"
	expectedSumsubMs      = "yyyy-MM-dd HH:mm:ss.fff (exactly 3 millisecond digits, no zone)"
	expectedURL           = "an absolute http or https URL with a non-empty host"
	expectedUUID          = "a UUID in canonical 8-4-4-4-12 hexadecimal form"
)

// formats holds every format, sorted by name.
var formats = sortedFormats([]Format{
	{Name: NameJumioTimestamp, Expected: expectedJumio, Check: stringCheck(IsJumioTimestamp)},
	{Name: NameSumsubCreatedAtMs, Expected: expectedSumsubMs, Check: stringCheck(IsSumsubCreatedAtMs)},
	{Name: NameSumsubCreatedAt, Expected: expectedSumsubCreated, Check: stringCheck(IsSumsubCreatedAt)},
	{Name: NameDate, Expected: expectedDate, Check: stringCheck(IsDate)},
	{Name: NameISO3166Alpha3, Expected: expectedISO3166Alpha3, Check: stringCheck(IsISO3166Alpha3)},
	{Name: NameUUID, Expected: expectedUUID, Check: stringCheck(IsUUID)},
	{Name: NameURL, Expected: expectedURL, Check: stringCheck(IsURL)},
	{Name: NameIPv4, Expected: expectedIPv4, Check: stringCheck(IsIPv4)},
	{Name: NameIP, Expected: expectedIP, Check: stringCheck(IsIP)},
})

func sortedFormats(fs []Format) []Format {
	slices.SortFunc(fs, func(a, b Format) int { return strings.Compare(a.Name, b.Name) })
	return fs
}

// stringCheck adapts a string predicate to JSON Schema semantics: values
// that are not strings pass.
func stringCheck(f func(string) bool) func(any) bool {
	return func(v any) bool {
		s, ok := v.(string)
		if !ok {
			return true
		}
		return f(s)
	}
}

// All returns every format, sorted by name. The slice is a fresh copy that
// the caller may modify.
func All() []Format {
	return slices.Clone(formats)
}

// Lookup returns the format with the given name and reports whether it
// exists.
func Lookup(name string) (Format, bool) {
	i, ok := slices.BinarySearchFunc(formats, name, func(f Format, n string) int {
		return strings.Compare(f.Name, n)
	})
	if !ok {
		return Format{}, false
	}
	return formats[i], true
}

// Checkers returns a fresh map from format name to checker, suitable for
// jsonschema.Compiler.Formats. The caller may modify the map.
func Checkers() map[string]func(any) bool {
	m := make(map[string]func(any) bool, len(formats))
	for _, f := range formats {
		m[f.Name] = f.Check
	}
	return m
}
