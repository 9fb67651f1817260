package format

import (
	_ "embed"
	"fmt"
	"strings"
)

// countriesTxt lists the officially assigned ISO 3166-1 alpha-3 codes plus
// XKX (Kosovo), one per line, each followed by a tab and the English short
// name.
//
//go:embed countries.txt
var countriesTxt string

// countries maps each code in countries.txt to its English short name.
var countries = parseCountries(countriesTxt)

// parseCountries reads the embedded country list. It panics on a malformed
// line, since the list is part of the source.
func parseCountries(txt string) map[string]string {
	m := make(map[string]string, 256)
	for n, line := range strings.Split(strings.TrimSuffix(txt, "\n"), "\n") {
		code, name, ok := strings.Cut(line, "\t")
		valid := ok && len(code) == 3 && name != "" && strings.TrimSpace(name) == name
		for i := 0; valid && i < 3; i++ {
			valid = 'A' <= code[i] && code[i] <= 'Z'
		}
		if !valid {
			panic(fmt.Sprintf("format: countries.txt line %d is malformed: %q", n+1, line))
		}
		if _, dup := m[code]; dup {
			panic(fmt.Sprintf("format: countries.txt line %d repeats %s", n+1, code))
		}
		m[code] = name
	}
	return m
}

// CountryName returns the English short name of an ISO 3166-1 alpha-3
// country code accepted by the iso3166-alpha3 format (for example "Austria"
// for "AUT"), and reports whether the code is known. The code must be
// uppercase.
func CountryName(code string) (string, bool) {
	name, ok := countries[code]
	return name, ok
}
