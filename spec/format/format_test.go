package format

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// checkCases lists valid and invalid strings for every format.
var checkCases = map[string]struct {
	valid, invalid []string
}{
	NameJumioTimestamp: {
		valid: []string{
			"2019-05-30T08:37:35Z",
			"2019-05-30T08:37:35.8Z",
			"2019-05-30T08:37:35.82Z",
			"2019-05-30T08:37:35.822Z",
			"2019-05-30T08:37:35.000Z",
			"2024-02-29T00:00:00Z",
			"2000-02-29T12:00:00.5Z",
			"9999-12-31T23:59:59.999Z",
			"0000-01-01T00:00:00Z",
		},
		invalid: []string{
			"2019-05-30T08:37:35.8221Z",
			"2019-05-30T08:37:35.822000Z",
			"2019-05-30T08:37:35+00:00",
			"2019-05-30T08:37:35.822+00:00",
			"2019-05-30T08:37:35.822+0000",
			"2019-05-30T08:37:35z",
			"2019-05-30T08:37:35.822z",
			"2019-05-30T08:37:35",
			"2019-05-30T08:37:35.822",
			"2019-05-30T08:37:35.8",
			"2019-05-30 08:37:35Z",
			"2019-05-30 08:37:35.822Z",
			"2019-05-30t08:37:35Z",
			"2019-05-30T08:37Z",
			"2019-05-30T08:37:35.Z",
			"2019-05-30T08:37:35,822Z",
			"2019-05-30T08:37:35.8a2Z",
			"2019-05-30T08:37:35.-1Z",
			"2019-05-30T08:37:35ZZ",
			"2023-02-29T00:00:00Z",
			"1900-02-29T00:00:00Z",
			"2019-04-31T00:00:00Z",
			"2019-13-01T00:00:00Z",
			"2019-00-01T00:00:00Z",
			"2019-01-00T00:00:00Z",
			"2019-05-30T24:00:00Z",
			"2019-05-30T23:60:00Z",
			"2019-05-30T23:59:60Z",
			"2019-5-30T08:37:35Z",
			"19-05-30T08:37:35.822Z",
			"+019-05-30T08:37:35Z",
			" 2019-05-30T08:37:35Z",
			"2019-05-30T08:37:35Z ",
			"2019-05-30",
			"",
		},
	},
	NameSumsubCreatedAtMs: {
		valid: []string{
			"2021-05-14 16:00:25.032",
			"2021-05-14 16:00:25.000",
			"2024-02-29 23:59:59.999",
			"0000-01-01 00:00:00.000",
		},
		invalid: []string{
			"2021-05-14 16:00:25.03",
			"2021-05-14 16:00:25.0321",
			"2021-05-14 16:00:25",
			"2021-05-14 16:00:25.032Z",
			"2021-05-14 16:00:25.032+0000",
			"2021-05-14T16:00:25.032",
			"2021-05-14  16:00:25.032",
			"2021-05-14 16:00:25,032",
			"2021-05-14 16:00:25.03a",
			"2023-02-29 00:00:00.000",
			"2021-06-31 00:00:00.000",
			"2021-05-14 24:00:00.000",
			"2021-05-14 16:60:25.032",
			"2021-05-14 16:00:60.032",
			"2021-5-14 16:00:25.0320",
			"",
		},
	},
	NameSumsubCreatedAt: {
		valid: []string{
			"2023-03-14 12:50:27+0000",
			"2023-03-14 12:50:27-0000",
			"2023-03-14 12:50:27+0530",
			"2023-03-14 12:50:27-0500",
			"2023-03-14 12:50:27+1400",
			"2023-03-14 12:50:27-1459",
			"2024-02-29 00:00:00+0100",
		},
		invalid: []string{
			"2023-03-14 12:50:27+1500",
			"2023-03-14 12:50:27+0060",
			"2023-03-14 12:50:27+00:00",
			"2023-03-14 12:50:27+000",
			"2023-03-14 12:50:27+00000",
			"2023-03-14 12:50:27Z",
			"2023-03-14 12:50:27 +0000",
			"2023-03-14 12:50:27",
			"2023-03-14 12:50:27.000+0000",
			"2023-03-14T12:50:27+0000",
			"2023-03-14 12:50:27*0000",
			"2023-03-14 12:50:27+0a00",
			"2023-02-29 12:50:27+0000",
			"2023-03-14 12:50:60+0000",
			"",
		},
	},
	NameDate: {
		valid: []string{
			"2024-02-29",
			"2000-02-29",
			"2023-12-31",
			"2023-01-01",
			"2023-04-30",
			"0001-01-01",
		},
		invalid: []string{
			"2023-02-29",
			"1900-02-29",
			"2100-02-29",
			"2023-04-31",
			"2023-01-32",
			"2023-13-01",
			"2023-00-10",
			"2023-01-00",
			"2023-1-01",
			"2023/01/01",
			"20230101",
			"2023-01-01T00:00:00Z",
			"2023-01-01 ",
			"+023-01-01",
			"",
		},
	},
	NameISO3166Alpha3: {
		valid: []string{
			"USA", "DEU", "AUT", "GBR", "HKG", "KOR", "NLD", "SGP", "TWN",
			"PSE", "SSD", "BES", "CUW", "SXM", "ALA", "MNE", "SRB", "TLS", "XKX",
		},
		invalid: []string{
			"usa", "Usa", "xkx", "US", "USAA", "", "U S", "ANT", "SCG", "YUG",
			"ROM", "TMP", "ZAR", "XXX", "AAA", "EUR", "UNK", "ÅLA", "US\x00",
		},
	},
	NameUUID: {
		valid: []string{
			"123e4567-e89b-12d3-a456-426614174000",
			"123E4567-E89B-12D3-A456-426614174000",
			"00000000-0000-0000-0000-000000000000",
			"ffffffff-ffff-ffff-ffff-ffffffffffff",
		},
		invalid: []string{
			"123e4567e89b12d3a456426614174000",
			"{123e4567-e89b-12d3-a456-426614174000}",
			"urn:uuid:123e4567-e89b-12d3-a456-426614174000",
			"123e4567-e89b-12d3-a456-42661417400",
			"123e4567-e89b-12d3-a456-4266141740000",
			"123e4567-e89b-12d3-a4564-26614174000",
			"123e4567-e89b-12d3-a456_426614174000",
			"123e4567-e89b-12d3-a456-42661417400g",
			"",
		},
	},
	NameURL: {
		valid: []string{
			"https://example.com",
			"http://example.com/cb?x=1&y=2#frag",
			"https://api.kycsim.local:8443/webhooks/jumio",
			"HTTPS://EXAMPLE.COM/",
			"http://127.0.0.1:8080/",
			"http://[::1]:8080/x",
			"https://user:pw@example.com/",
		},
		invalid: []string{
			"ftp://example.com",
			"example.com",
			"//example.com",
			"/relative/path",
			"https://",
			"http:///path",
			"http://:80/",
			"http://user@/",
			"http:/example.com",
			"http:example.com",
			"mailto:a@example.com",
			"https://exa mple.com",
			"https://example.com/a b",
			"https://example.com\n",
			"https://example.com:port/",
			"https://[::1",
			"httpx://example.com",
			"",
		},
	},
	NameIPv4: {
		valid: []string{
			"0.0.0.0",
			"255.255.255.255",
			"192.168.1.1",
			"10.0.0.1",
			"1.20.100.200",
		},
		invalid: []string{
			"256.0.0.1",
			"1.2.3.256",
			"01.2.3.4",
			"00.0.0.0",
			"1.2.3.04",
			"1.2.3.0004",
			"1.2.3",
			"1.2.3.4.5",
			"1..2.3",
			"1.2.3.4.",
			".1.2.3",
			"1.2.3.-4",
			"+1.2.3.4",
			"a.b.c.d",
			"1.2.3.4 ",
			"::1",
			"1.2.3.4/24",
			"",
		},
	},
	NameIP: {
		valid: []string{
			"0.0.0.0",
			"192.168.1.1",
			"::",
			"::1",
			"2001:db8::1",
			"2001:DB8:0:0:0:0:0:1",
			"FE80::1",
			"::ffff:192.0.2.1",
		},
		invalid: []string{
			"fe80::1%eth0",
			"2001:db8::g",
			"1.2.3.256",
			"01.2.3.4",
			":::",
			"[::1]",
			"1:2:3:4:5:6:7:8:9",
			"::ffff:01.2.3.4",
			"localhost",
			"",
		},
	},
}

func TestCheck(t *testing.T) {
	for _, f := range All() {
		cases, ok := checkCases[f.Name]
		if !ok {
			t.Errorf("format %q has no test cases", f.Name)
			continue
		}
		if len(cases.valid) == 0 || len(cases.invalid) == 0 {
			t.Errorf("format %q needs both valid and invalid cases", f.Name)
		}
		t.Run(f.Name, func(t *testing.T) {
			for _, s := range cases.valid {
				if !f.Check(s) {
					t.Errorf("Check(%q) = false, want true", s)
				}
			}
			for _, s := range cases.invalid {
				if f.Check(s) {
					t.Errorf("Check(%q) = true, want false", s)
				}
			}
		})
	}
	if len(checkCases) != len(All()) {
		t.Errorf("checkCases has %d formats, All has %d", len(checkCases), len(All()))
	}
}

func TestCheckNonString(t *testing.T) {
	values := []any{
		float64(3), 0.5, true, false, nil, map[string]any{"a": "b"}, []any{"x"},
		json.Number("2019"), 42, []byte("2019-05-30T08:37:35Z"),
	}
	for _, f := range All() {
		for _, v := range values {
			if !f.Check(v) {
				t.Errorf("%s: Check(%#v) = false, want true for a non-string", f.Name, v)
			}
		}
	}
}

func TestCheckDoesNotAllocate(t *testing.T) {
	for _, f := range All() {
		if f.Name == NameURL {
			continue // url.Parse allocates; that is accepted.
		}
		for _, s := range checkCases[f.Name].valid {
			var v any = s
			if n := testing.AllocsPerRun(100, func() { f.Check(v) }); n != 0 {
				t.Errorf("%s: Check(%q) allocates %v times, want 0", f.Name, s, n)
			}
		}
	}
}

func TestRegistry(t *testing.T) {
	want := []string{
		"date", "ip", "ipv4", "iso3166-alpha3", "jumio-timestamp",
		"sumsub-created-at", "sumsub-created-at-ms", "url", "uuid",
	}
	all := All()
	var names []string
	for _, f := range all {
		names = append(names, f.Name)
		if f.Expected == "" || f.Check == nil {
			t.Errorf("format %q has an empty Expected or a nil Check", f.Name)
		}
		got, ok := Lookup(f.Name)
		if !ok || got.Name != f.Name || got.Expected != f.Expected {
			t.Errorf("Lookup(%q) = %+v, %v", f.Name, got, ok)
		}
	}
	if !slices.Equal(names, want) {
		t.Errorf("All names = %q, want %q", names, want)
	}
	if f, ok := Lookup("nope"); ok || f.Check != nil {
		t.Errorf("Lookup(nope) = %+v, %v, want zero, false", f, ok)
	}
	if f, ok := Lookup(""); ok {
		t.Errorf("Lookup(\"\") = %+v, true", f)
	}
	if f, _ := Lookup(NameJumioTimestamp); f.Expected != "YYYY-MM-DDThh:mm:ssZ with 0 to 3 millisecond digits (UTC)" {
		t.Errorf("jumio-timestamp Expected = %q", f.Expected)
	}

	// All and Checkers hand out fresh values.
	all[0].Name = "changed"
	if All()[0].Name != want[0] {
		t.Error("modifying the result of All changed the registry")
	}
	m := Checkers()
	if len(m) != len(want) {
		t.Errorf("Checkers has %d entries, want %d", len(m), len(want))
	}
	for _, name := range want {
		if m[name] == nil {
			t.Errorf("Checkers()[%q] is nil", name)
		}
	}
	if m[NameDate]("2023-02-29") || !m[NameDate]("2024-02-29") {
		t.Error("Checkers()[date] does not check dates")
	}
	delete(m, NameDate)
	if Checkers()[NameDate] == nil {
		t.Error("modifying the result of Checkers changed later results")
	}
}

func TestCountries(t *testing.T) {
	if len(countries) != 250 {
		t.Errorf("countries has %d codes, want 249 ISO 3166-1 codes + XKX = 250", len(countries))
	}
	for _, code := range []string{"ALA", "BES", "CUW", "SXM", "SSD", "MNE", "SRB", "TLS", "XKX", "PSE", "TWN", "HKG", "KOR"} {
		if _, ok := CountryName(code); !ok || !IsISO3166Alpha3(code) {
			t.Errorf("%s is missing", code)
		}
	}
	for _, code := range []string{"ANT", "SCG", "YUG", "ROM", "TMP", "ZAR", "CSK", "BUR", "DDR", "SUN", "XXK", "RKS"} {
		if _, ok := CountryName(code); ok || IsISO3166Alpha3(code) {
			t.Errorf("%s is present but is not an assigned code", code)
		}
	}
	for code, want := range map[string]string{
		"AUT": "Austria", "DEU": "Germany", "XKX": "Kosovo", "USA": "United States",
		"GBR": "United Kingdom", "SSD": "South Sudan",
	} {
		if got, ok := CountryName(code); !ok || got != want {
			t.Errorf("CountryName(%q) = %q, %v, want %q", code, got, ok, want)
		}
	}
	if _, ok := CountryName("aut"); ok {
		t.Error(`CountryName("aut") found a lowercase code`)
	}
	// The embedded file is kept sorted, one "CODE\tName" per line.
	lines := strings.Split(strings.TrimSuffix(countriesTxt, "\n"), "\n")
	if !slices.IsSorted(lines) {
		t.Error("countries.txt is not sorted")
	}
	if len(lines) != len(countries) {
		t.Errorf("countries.txt has %d lines, map has %d", len(lines), len(countries))
	}
}

func TestParseCountriesRejectsMalformed(t *testing.T) {
	for _, txt := range []string{"AUT Austria\n", "aut\tAustria\n", "AUTT\tAustria\n", "AUT\t\n", "AUT\tAustria\nAUT\tAustria\n", "\n"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("parseCountries(%q) did not panic", txt)
				}
			}()
			parseCountries(txt)
		}()
	}
}

func TestJumioRoundTrip(t *testing.T) {
	// 08:37:35.829999999 in UTC+2: truncation gives .8/.82/.829, rounding
	// would give .9/.83/.830.
	in := time.Date(2019, 5, 30, 10, 37, 35, 829_999_999, time.FixedZone("CEST", 2*3600))
	want := []string{
		"2019-05-30T08:37:35Z",
		"2019-05-30T08:37:35.8Z",
		"2019-05-30T08:37:35.82Z",
		"2019-05-30T08:37:35.829Z",
	}
	units := []time.Duration{time.Second, 100 * time.Millisecond, 10 * time.Millisecond, time.Millisecond}
	for digits := 0; digits <= 3; digits++ {
		s := FormatJumioTimestamp(in, digits)
		if s != want[digits] {
			t.Errorf("FormatJumioTimestamp(%d) = %q, want %q", digits, s, want[digits])
		}
		got, d, err := ParseJumioTimestamp(s)
		if err != nil || d != digits {
			t.Fatalf("ParseJumioTimestamp(%q) = %v, %d, %v, want %d digits", s, got, d, err, digits)
		}
		if wantT := in.Truncate(units[digits]); !got.Equal(wantT) || got.Location() != time.UTC {
			t.Errorf("ParseJumioTimestamp(%q) = %v, want %v in UTC", s, got, wantT.UTC())
		}
	}
	for digits, want := range map[int]string{-1: want[0], -100: want[0], 4: want[3], 9: want[3]} {
		if got := FormatJumioTimestamp(in, digits); got != want {
			t.Errorf("FormatJumioTimestamp(%d) = %q, want clamped %q", digits, got, want)
		}
	}
}

func TestParseJumioTimestamp(t *testing.T) {
	for _, s := range checkCases[NameJumioTimestamp].valid {
		got, d, err := ParseJumioTimestamp(s)
		if err != nil {
			t.Errorf("ParseJumioTimestamp(%q) error: %v", s, err)
			continue
		}
		if want := max(len(s)-21, 0); d != want {
			t.Errorf("ParseJumioTimestamp(%q) digits = %d, want %d", s, d, want)
		}
		ref, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || !ref.Equal(got) {
			t.Errorf("ParseJumioTimestamp(%q) = %v, time.Parse gives %v, %v", s, got, ref, err)
		}
	}
	got, d, _ := ParseJumioTimestamp("2019-05-30T08:37:35.82Z")
	if want := time.Date(2019, 5, 30, 8, 37, 35, 820_000_000, time.UTC); !got.Equal(want) || d != 2 {
		t.Errorf("ParseJumioTimestamp(.82Z) = %v, %d, want %v, 2", got, d, want)
	}
	for _, s := range checkCases[NameJumioTimestamp].invalid {
		if _, _, err := ParseJumioTimestamp(s); !isParseError(err, NameJumioTimestamp, s) {
			t.Errorf("ParseJumioTimestamp(%q) error = %v, want a *ParseError naming the input", s, err)
		}
	}
}

func TestSumsubCreatedAtMs(t *testing.T) {
	in := time.Date(2021, 5, 14, 18, 0, 25, 32_999_999, time.FixedZone("", 2*3600))
	s := FormatSumsubCreatedAtMs(in)
	if s != "2021-05-14 16:00:25.032" {
		t.Errorf("FormatSumsubCreatedAtMs = %q, want 2021-05-14 16:00:25.032", s)
	}
	got, err := ParseSumsubCreatedAtMs(s)
	if want := in.Truncate(time.Millisecond); err != nil || !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("ParseSumsubCreatedAtMs(%q) = %v, %v, want %v in UTC", s, got, err, want.UTC())
	}
	for _, s := range checkCases[NameSumsubCreatedAtMs].valid {
		if _, err := ParseSumsubCreatedAtMs(s); err != nil {
			t.Errorf("ParseSumsubCreatedAtMs(%q) error: %v", s, err)
		}
	}
	for _, s := range checkCases[NameSumsubCreatedAtMs].invalid {
		if _, err := ParseSumsubCreatedAtMs(s); !isParseError(err, NameSumsubCreatedAtMs, s) {
			t.Errorf("ParseSumsubCreatedAtMs(%q) error = %v, want a *ParseError naming the input", s, err)
		}
	}
}

func TestSumsubCreatedAt(t *testing.T) {
	in := time.Date(2023, 3, 14, 13, 50, 27, 999_999_999, time.FixedZone("", 3600))
	s := FormatSumsubCreatedAt(in)
	if s != "2023-03-14 12:50:27+0000" {
		t.Errorf("FormatSumsubCreatedAt = %q, want 2023-03-14 12:50:27+0000", s)
	}
	got, err := ParseSumsubCreatedAt(s)
	if want := in.Truncate(time.Second); err != nil || !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("ParseSumsubCreatedAt(%q) = %v, %v, want %v in UTC", s, got, err, want.UTC())
	}
	for s, want := range map[string]time.Time{
		"2023-03-14 12:50:27+0530": time.Date(2023, 3, 14, 7, 20, 27, 0, time.UTC),
		"2023-03-14 12:50:27-0500": time.Date(2023, 3, 14, 17, 50, 27, 0, time.UTC),
		"2023-03-14 12:50:27-0000": time.Date(2023, 3, 14, 12, 50, 27, 0, time.UTC),
		"2023-01-01 00:30:00+1400": time.Date(2022, 12, 31, 10, 30, 0, 0, time.UTC),
	} {
		got, err := ParseSumsubCreatedAt(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseSumsubCreatedAt(%q) = %v, %v, want %v", s, got, err, want)
		}
	}
	for _, s := range checkCases[NameSumsubCreatedAt].invalid {
		if _, err := ParseSumsubCreatedAt(s); !isParseError(err, NameSumsubCreatedAt, s) {
			t.Errorf("ParseSumsubCreatedAt(%q) error = %v, want a *ParseError naming the input", s, err)
		}
	}
}

// isParseError reports whether err is a *ParseError for the format and
// input, wraps ErrInvalid and names the input in its message.
func isParseError(err error, name, input string) bool {
	var pe *ParseError
	return errors.Is(err, ErrInvalid) && errors.As(err, &pe) &&
		pe.Format == name && pe.Input == input &&
		strings.Contains(err.Error(), strconv.Quote(input))
}

// addSeeds adds every listed case of the named formats to the fuzz corpus.
func addSeeds(f *testing.F, names ...string) {
	for _, name := range names {
		for _, s := range checkCases[name].valid {
			f.Add(s)
		}
		for _, s := range checkCases[name].invalid {
			f.Add(s)
		}
	}
}

func FuzzJumioTimestamp(f *testing.F) {
	addSeeds(f, NameJumioTimestamp, NameSumsubCreatedAtMs)
	check := stringCheck(IsJumioTimestamp)
	f.Fuzz(func(t *testing.T, s string) {
		ok := check(s)
		got, digits, err := ParseJumioTimestamp(s)
		if ok != (err == nil) {
			t.Fatalf("Check(%q) = %v but ParseJumioTimestamp error = %v", s, ok, err)
		}
		if err != nil {
			if !isParseError(err, NameJumioTimestamp, s) {
				t.Fatalf("ParseJumioTimestamp(%q) error = %v, want a *ParseError naming the input", s, err)
			}
			return
		}
		if digits < 0 || digits > 3 || got.Location() != time.UTC {
			t.Fatalf("ParseJumioTimestamp(%q) = %v, %d digits", s, got, digits)
		}
		if back := FormatJumioTimestamp(got, digits); back != s {
			t.Fatalf("FormatJumioTimestamp(ParseJumioTimestamp(%q)) = %q", s, back)
		}
		if ref, err := time.Parse(time.RFC3339Nano, s); err != nil || !ref.Equal(got) {
			t.Fatalf("ParseJumioTimestamp(%q) = %v, time.Parse gives %v, %v", s, got, ref, err)
		}
	})
}

func FuzzSumsubCreatedAtMs(f *testing.F) {
	addSeeds(f, NameSumsubCreatedAtMs, NameJumioTimestamp)
	check := stringCheck(IsSumsubCreatedAtMs)
	f.Fuzz(func(t *testing.T, s string) {
		ok := check(s)
		got, err := ParseSumsubCreatedAtMs(s)
		if ok != (err == nil) {
			t.Fatalf("Check(%q) = %v but ParseSumsubCreatedAtMs error = %v", s, ok, err)
		}
		if err != nil {
			if !isParseError(err, NameSumsubCreatedAtMs, s) {
				t.Fatalf("ParseSumsubCreatedAtMs(%q) error = %v, want a *ParseError naming the input", s, err)
			}
			return
		}
		if back := FormatSumsubCreatedAtMs(got); back != s {
			t.Fatalf("FormatSumsubCreatedAtMs(ParseSumsubCreatedAtMs(%q)) = %q", s, back)
		}
	})
}

func FuzzSumsubCreatedAt(f *testing.F) {
	addSeeds(f, NameSumsubCreatedAt, NameSumsubCreatedAtMs)
	check := stringCheck(IsSumsubCreatedAt)
	f.Fuzz(func(t *testing.T, s string) {
		ok := check(s)
		got, err := ParseSumsubCreatedAt(s)
		if ok != (err == nil) {
			t.Fatalf("Check(%q) = %v but ParseSumsubCreatedAt error = %v", s, ok, err)
		}
		if err != nil {
			if !isParseError(err, NameSumsubCreatedAt, s) {
				t.Fatalf("ParseSumsubCreatedAt(%q) error = %v, want a *ParseError naming the input", s, err)
			}
			return
		}
		// Rendering in the parsed zone reproduces the input, except that
		// -0000 comes back as +0000.
		want := strings.TrimSuffix(s, "-0000")
		if len(want) != len(s) {
			want += "+0000"
		}
		if back := got.Format(sumsubCreatedLayout); back != want {
			t.Fatalf("ParseSumsubCreatedAt(%q) renders back as %q", s, back)
		}
		if back := FormatSumsubCreatedAt(got); !strings.HasSuffix(back, "+0000") {
			t.Fatalf("FormatSumsubCreatedAt = %q, want a +0000 suffix", back)
		}
	})
}

func FuzzCheckers(f *testing.F) {
	for name := range checkCases {
		addSeeds(f, name)
	}
	for _, s := range []string{"http://a:1:2/", "https://h.example/p%zz", "http://h/#a#b", "http://h:/x", "HTTPS://H-1.x/a?b=c#d", "http://-/", "http://h/%41"} {
		f.Add(s)
	}
	checkers := Checkers()
	f.Fuzz(func(t *testing.T, s string) {
		got := make(map[string]bool, len(checkers))
		for name, check := range checkers {
			got[name] = check(s)
		}
		// Cross-check against independent implementations where the
		// standard library has one with the same meaning.
		addr, err := netip.ParseAddr(s)
		if want := err == nil && addr.Is4(); got[NameIPv4] != want {
			t.Errorf("ipv4 Check(%q) = %v, netip says %v", s, got[NameIPv4], want)
		}
		if want := err == nil && addr.Zone() == ""; got[NameIP] != want {
			t.Errorf("ip Check(%q) = %v, netip says %v", s, got[NameIP], want)
		}
		_, err = time.Parse(time.DateOnly, s)
		if want := err == nil && len(s) == 10; got[NameDate] != want {
			t.Errorf("date Check(%q) = %v, time.Parse says %v", s, got[NameDate], want)
		}
		if _, want := CountryName(s); got[NameISO3166Alpha3] != want {
			t.Errorf("iso3166-alpha3 Check(%q) = %v, CountryName says %v", s, got[NameISO3166Alpha3], want)
		}
		if want := refUUID(s); got[NameUUID] != want {
			t.Errorf("uuid Check(%q) = %v, reference says %v", s, got[NameUUID], want)
		}
		if got[NameURL] && !strings.HasPrefix(strings.ToLower(s), "http") {
			t.Errorf("url Check(%q) = true without an http scheme", s)
		}
		// The shortcut for plain URLs agrees with net/url.
		if (hasPrefixFold(s, "http://") || hasPrefixFold(s, "https://")) && plainURL(s) && !isURLParsed(s) {
			t.Errorf("plainURL(%q) = true, net/url finds no host or refuses it", s)
		}
	})
}

// refUUID is a slow reference for the uuid format built on encoding/hex.
func refUUID(s string) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	_, err := hex.DecodeString(s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:])
	return err == nil
}

// benchValues holds one valid value per format (two for ip).
var benchValues = []struct{ name, value string }{
	{NameDate, "2024-02-29"},
	{NameIP, "192.168.100.200"},
	{NameIP + "/v6", "2001:db8:85a3::8a2e:370:7334"},
	{NameIPv4, "192.168.100.200"},
	{NameISO3166Alpha3, "AUT"},
	{NameJumioTimestamp, "2019-05-30T08:37:35.822Z"},
	{NameSumsubCreatedAt, "2023-03-14 12:50:27+0000"},
	{NameSumsubCreatedAtMs, "2021-05-14 16:00:25.032"},
	{NameURL, "https://api.example.com:8443/webhooks/jumio?x=1"},
	{NameUUID, "123e4567-e89b-12d3-a456-426614174000"},
}

func BenchmarkCheck(b *testing.B) {
	for _, bv := range benchValues {
		name, _, _ := strings.Cut(bv.name, "/")
		f, ok := Lookup(name)
		if !ok {
			b.Fatalf("no format %q", name)
		}
		var v any = bv.value // boxed once, as the schema validator hands it over
		if !f.Check(v) {
			b.Fatalf("%s: %q is not valid", f.Name, bv.value)
		}
		b.Run(bv.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !f.Check(v) {
					b.Fatal("Check failed")
				}
			}
		})
	}
}

// TestFormatSumsubCreatedAtMsAgreesWithLayout checks the hand-written
// formatter against time.Format across years, zones and sub-millisecond
// parts.
func TestFormatSumsubCreatedAtMsAgreesWithLayout(t *testing.T) {
	zone := time.FixedZone("x", -7*3600-30*60)
	for _, tm := range []time.Time{
		time.Date(2020, 2, 21, 13, 23, 19, 1_999_999, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2026, 11, 22, 23, 30, 0, 5_000_000, zone),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		if got, want := FormatSumsubCreatedAtMs(tm), tm.UTC().Format(sumsubMsLayout); got != want {
			t.Errorf("%v: %q, want %q", tm, got, want)
		}
	}
}
