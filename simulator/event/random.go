package event

import (
	"math/rand/v2"
	"time"

	"github.com/kycsim/kycsim/spec/format"
)

// gen draws the generated values of one event.
type gen struct {
	r      *rand.Rand
	now    time.Time
	digits int    // millisecond digits of Jumio timestamps
	base   string // vendor base URL, no trailing slash
	table  bool   // Options.Form is FormTable
	opt    *Options
	// variants records the variant taken at each choice point.
	variants map[string]string
	// ident is the seed of the subject's identity (hasIdent: there is
	// one): the identity fields and the variants derive from it.
	ident    uint64
	hasIdent bool
}

// pick returns one of list.
func (g *gen) pick(list []string) string { return list[g.r.IntN(len(list))] }

// variant draws one of choices at a named choice point of the event's
// shape (which optional fields appear, in which format) and records it.
// With an identity, the choice is the subject's: every event about it
// takes the same one.
func (g *gen) variant(name string, choices ...string) string {
	var c string
	if g.hasIdent {
		c = choices[g.stableRand("variant\x00"+name).IntN(len(choices))]
	} else {
		c = g.pick(choices)
	}
	g.variants[name] = c
	return c
}

// note records the variant a choice point took as a consequence of
// other draws.
func (g *gen) note(name, value string) { g.variants[name] = value }

// between returns a duration in [lo, hi), in whole milliseconds.
func (g *gen) between(lo, hi time.Duration) time.Duration {
	ms := int64((hi - lo) / time.Millisecond)
	return lo + time.Duration(g.r.Int64N(ms))*time.Millisecond
}

// uuid returns a random (version 4) UUID.
func (g *gen) uuid() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := g.r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return string(out)
}

// hex returns n random lowercase hexadecimal digits.
func (g *gen) hex(n int) string {
	out := make([]byte, n)
	for i := range out {
		out[i] = hexDigits[g.r.IntN(16)]
	}
	return string(out)
}

// digitString returns n random decimal digits, the first not 0.
func (g *gen) digitString(n int) string {
	out := make([]byte, n)
	for i := range out {
		out[i] = byte('0' + g.r.IntN(10))
	}
	if n > 0 && out[0] == '0' {
		out[0] = byte('1' + g.r.IntN(9))
	}
	return string(out)
}

// letters returns n random uppercase letters.
func (g *gen) letters(n int) string {
	out := make([]byte, n)
	for i := range out {
		out[i] = byte('A' + g.r.IntN(26))
	}
	return string(out)
}

// jumioTime renders t the way Jumio does, with the chosen precision.
func (g *gen) jumioTime(t time.Time) string { return format.FormatJumioTimestamp(t, g.digits) }

// date renders the day of t as YYYY-MM-DD.
func date(t time.Time) string { return t.UTC().Format("2006-01-02") }

// birthDate returns a date of birth of an adult aged 18 to 75 at now.
func (g *gen) birthDate() time.Time {
	return g.now.AddDate(-18-g.r.IntN(57), -g.r.IntN(12), -g.r.IntN(28))
}

// expiryDate returns a document expiry 1 to 9 years after now.
func (g *gen) expiryDate() time.Time {
	return g.now.AddDate(1+g.r.IntN(9), g.r.IntN(12), g.r.IntN(28))
}

// clientIP returns an address of the documentation ranges (RFC 5737).
func (g *gen) clientIP() string {
	nets := []string{"192.0.2.", "198.51.100.", "203.0.113."}
	return g.pick(nets) + itoa(1+g.r.IntN(254))
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// Names as printed on identity documents (Jumio returns them upper case).
var (
	firstNames = []string{"ANNA", "DAVID", "ELENA", "JAMES", "LAURA", "LUCAS", "MARIA", "MARTIN", "SOPHIE", "THOMAS", "OLIVIA", "NOAH"}
	lastNames  = []string{"BROWN", "GARCIA", "JOHNSON", "LOPEZ", "MARTIN", "MOREAU", "MULLER", "ROSSI", "SMITH", "WILSON", "NOVAK", "TAYLOR"}
)

// address is a postal address, to render in one of Jumio's formats.
type address struct {
	number                                 string
	street                                 street
	city, subdivision, postalCode, country string
}

// street is a street name with its suffix, written out and abbreviated
// as the US address format has it.
type street struct{ name, suffix, abbrev string }

// full returns the street as printed: "Station Road".
func (s street) full() string { return s.name + " " + s.suffix }

// line1 returns the first address line: "12 Station Road".
func (a address) line1() string { return a.number + " " + a.street.full() }

// places are realistic city, subdivision and postal code triples by
// ISO 3166-1 alpha-3 country.
var places = map[string][][3]string{
	"USA": {{"Sacramento", "US-CA", "95814"}, {"Austin", "US-TX", "78701"}, {"Albany", "US-NY", "12207"}, {"Seattle", "US-WA", "98101"}},
	"GBR": {{"Manchester", "", "M1 1AE"}, {"Leeds", "", "LS1 4DY"}, {"Bristol", "", "BS1 5TR"}},
	"FRA": {{"Lyon", "Rhone", "69002"}, {"Nantes", "Loire-Atlantique", "44000"}},
	"ESP": {{"Madrid", "Madrid", "28013"}, {"Valencia", "Valencia", "46002"}},
	"DEU": {{"Munich", "Bayern", "80331"}, {"Hamburg", "Hamburg", "20095"}, {"Cologne", "Nordrhein-Westfalen", "50667"}},
	"CAN": {{"Toronto", "CA-ON", "M5H 2N2"}, {"Calgary", "CA-AB", "T2P 1J9"}},
	"AUT": {{"Graz", "Steiermark", "8010"}, {"Linz", "Oberosterreich", "4020"}},
	"AUS": {{"Brisbane", "AU-QLD", "4000"}, {"Perth", "AU-WA", "6000"}},
}

var streets = []street{
	{"Main", "Street", "St"}, {"Oak", "Avenue", "Ave"}, {"Station", "Road", "Rd"},
	{"High", "Street", "St"}, {"Park", "Lane", "Ln"}, {"Church", "Street", "St"},
}

// address returns an address in country (which must be in places).
func (g *gen) address(country string) address {
	p := places[country][g.r.IntN(len(places[country]))]
	return address{
		number:      itoa(1 + g.r.IntN(240)),
		street:      streets[g.r.IntN(len(streets))],
		city:        p[0],
		subdivision: p[1],
		postalCode:  p[2],
		country:     country,
	}
}

// formatted renders the address on one line, the way Jumio's
// formattedAddress does.
func (a address) formatted() string {
	s := a.line1() + ", " + a.city + ", "
	if a.subdivision != "" {
		s += a.subdivision + " "
	}
	name, ok := format.CountryName(a.country)
	if !ok {
		name = a.country
	}
	return s + a.postalCode + ", " + name
}
