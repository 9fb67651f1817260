package record

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kycsim/kycsim/simulator/event"
	"github.com/kycsim/kycsim/spec"
	"github.com/kycsim/kycsim/spec/form"
	"github.com/kycsim/kycsim/spec/maskrule"
)

// VendorBase is the scheme and host masked URLs are given: the replay
// puts its vendor API mock in its place (the scenario variable
// ${vendor-base}).
const VendorBase = "https://vendor-base.kycsim.invalid"

// Masker replaces the personal data of a product's callbacks with values
// of the same format. It is deterministic within one recording (one
// Masker): the same value masks to the same replacement, so that one
// applicant stays one applicant across its events, and an identifier is
// replaced the same way in every field and URL it occurs in. The key
// that makes it so lives only in memory: nothing written lets anyone
// undo the masking. A Masker is safe for concurrent use.
type Masker struct {
	product *spec.Product
	rules   *maskrule.Rules
	key     []byte
	jsonIn  map[string]bool // JSON-in-form fields

	mu      sync.Mutex
	ids     map[string]string // original id → masked id
	taken   map[string]bool   // masked ids in use
	unruled map[string]bool   // pointers masked as text for want of a rule
}

// NewMasker returns a masker for one recording; key (at least 16 random
// bytes) makes its replacements, and must not be stored.
func NewMasker(p *spec.Product, rules *maskrule.Rules, key []byte) *Masker {
	m := &Masker{product: p, rules: rules, key: slices.Clone(key), jsonIn: map[string]bool{},
		ids: map[string]string{}, taken: map[string]bool{}, unruled: map[string]bool{}}
	for _, f := range p.JSONFields() {
		m.jsonIn[f] = true
	}
	return m
}

// Masked is a masked callback body.
type Masked struct {
	// Body is the masked body.
	Body []byte
	// Subject is the masked subject id ("" when the body has none).
	Subject string
	// Encoding is spec.EncodingJSON or spec.EncodingForm; "" when the body
	// could not be decoded and was masked as text as a whole.
	Encoding string
	// Normalized says the body was decoded and encoded again: the same
	// content in compact form.
	Normalized bool
}

// Mask masks a body. The original subject id is returned beside it, for
// grouping a recording's callbacks in memory; it must not be stored.
func (m *Masker) Mask(body []byte) (Masked, string) {
	enc := spec.DetectEncoding(body)
	if m.product.Encoding == spec.EncodingForm && enc == spec.EncodingForm {
		if out, subject, ok := m.maskForm(body); ok {
			return out, subject
		}
	}
	if m.product.Encoding == spec.EncodingJSON && enc == spec.EncodingJSON {
		if out, subject, ok := m.maskJSON(body); ok {
			return out, subject
		}
	}
	// Content that does not decode is masked as text as a whole: its
	// punctuation stays, so malformed content stays malformed.
	s := strings.ToValidUTF8(string(body), "\uFFFD")
	return Masked{Body: []byte(m.shape(maskrule.Text, s))}, ""
}

func (m *Masker) maskJSON(body []byte) (Masked, string, bool) {
	// A callback is an object; anything else is masked as text.
	obj := event.NewObject()
	if err := obj.UnmarshalJSON(body); err != nil {
		return Masked{}, "", false
	}
	subject := subjectOf(obj, m.rules.SubjectTokens)
	b, err := marshal(m.value(nil, obj))
	if err != nil {
		return Masked{}, "", false
	}
	return Masked{Body: b, Subject: m.maskedID(subject), Encoding: spec.EncodingJSON, Normalized: true}, subject, true
}

func (m *Masker) maskForm(body []byte) (Masked, string, bool) {
	f, err := form.Parse(body)
	if err != nil {
		return Masked{}, "", false
	}
	view := event.NewObject()
	fields := make([]form.Field, len(f.Fields))
	for i, fl := range f.Fields {
		path := []string{fl.Name}
		var v any = fl.Value
		if m.jsonIn[fl.Name] {
			if x, err := decodeOrdered(fl.Value); err == nil {
				v = x
			}
		}
		view.Set(fl.Name, v)
		mv := m.value(path, v)
		s, ok := mv.(string)
		if !ok {
			b, err := marshal(mv)
			if err != nil {
				return Masked{}, "", false
			}
			s = string(b)
		}
		fields[i] = form.Field{Name: fl.Name, Value: s}
	}
	subject := subjectOf(view, m.rules.SubjectTokens)
	return Masked{Body: []byte(form.Encode(fields)), Subject: m.maskedID(subject), Encoding: spec.EncodingForm, Normalized: true}, subject, true
}

// marshal encodes a masked value as compact JSON, leaving <, > and &
// as they are.
func marshal(v any) ([]byte, error) {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(sb.String(), "\n")), nil
}

// decodeOrdered decodes a JSON text keeping the order of object members
// (a JSON-in-form field).
func decodeOrdered(s string) (any, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "{") {
		o := event.NewObject()
		return o, o.UnmarshalJSON([]byte(s))
	}
	// An array or a scalar: wrap it to decode it in order.
	o := event.NewObject()
	if err := o.UnmarshalJSON([]byte(`{"v":` + s + `}`)); err != nil {
		return nil, err
	}
	v, _ := o.Get("v")
	return v, nil
}

// subjectOf reads the subject id at tokens ("" when absent or not a
// string).
func subjectOf(v any, tokens []string) string {
	if len(tokens) == 0 {
		return ""
	}
	for _, t := range tokens {
		o, ok := v.(*event.Object)
		if !ok {
			return ""
		}
		if v, ok = o.Get(t); !ok {
			return ""
		}
	}
	s, _ := v.(string)
	return s
}

// maskedID returns the masked form of an id ("" for "").
func (m *Masker) maskedID(s string) string {
	if s == "" {
		return ""
	}
	return m.id(s)
}

// Unruled lists, sorted, the fields masked as text because no rule
// covers them (new fields, most likely).
func (m *Masker) Unruled() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.unruled))
	for p := range m.unruled {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// value masks a decoded value at path.
func (m *Masker) value(path []string, v any) any {
	switch x := v.(type) {
	case *event.Object:
		out := event.NewObject()
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			out.Set(k, m.value(append(slices.Clip(path), k), e))
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = m.value(append(slices.Clip(path), fmt.Sprint(i)), e)
		}
		return out
	case nil, bool:
		return v
	}
	kind := maskrule.Text
	if len(path) > 0 {
		rule, err := m.rules.Match(path)
		if err != nil {
			m.mu.Lock()
			if len(m.unruled) < 1000 {
				m.unruled[event.FormatPointer(path)] = true
			}
			m.mu.Unlock()
		} else {
			kind = rule.Kind
		}
	}
	switch x := v.(type) {
	case string:
		return m.String(kind, x)
	case json.Number:
		if kind == maskrule.Keep {
			return x
		}
		return json.Number(m.number(kind, string(x)))
	}
	return v
}

// String masks one string value of a kind.
func (m *Masker) String(kind maskrule.Kind, s string) string {
	if s == "" || kind == maskrule.Keep {
		return s
	}
	switch kind {
	case maskrule.ID:
		return m.id(s)
	case maskrule.Name:
		return m.name(s)
	case maskrule.Date:
		return m.date(s)
	case maskrule.Email:
		return m.email(s)
	case maskrule.IP:
		return m.ip(s)
	case maskrule.Country:
		return m.country(s)
	case maskrule.URL:
		return m.url(s)
	}
	return m.shape(kind, s)
}

// rng returns the deterministic source of a replacement: the recording's
// key, the kind and the value decide it.
func (m *Masker) rng(kind maskrule.Kind, s string, salt int) *rand.Rand {
	h := hmac.New(sha256.New, m.key)
	fmt.Fprintf(h, "%s\x00%d\x00%s", kind, salt, s)
	var seed [32]byte
	copy(seed[:], h.Sum(nil))
	return rand.New(rand.NewChaCha8(seed))
}

const (
	lower = "abcdefghijklmnopqrstuvwxyz"
	upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	hexLo = "0123456789abcdef"
	hexUp = "0123456789ABCDEF"
)

// shape replaces every letter by a letter of the same case and every
// digit by a digit; the rest (spacing, punctuation) stays.
func (m *Masker) shape(kind maskrule.Kind, s string) string {
	r := m.rng(kind, s, 0)
	var sb strings.Builder
	sb.Grow(len(s))
	for _, c := range s {
		keepClass(&sb, r, c)
	}
	return sb.String()
}

// keepClass writes a random character of c's class: a digit for a digit,
// a letter of the same case for a letter, anything else as it is.
func keepClass(sb *strings.Builder, r *rand.Rand, c rune) {
	switch {
	case c >= '0' && c <= '9':
		sb.WriteByte('0' + byte(r.IntN(10)))
	case unicode.IsUpper(c):
		sb.WriteByte(upper[r.IntN(26)])
	case unicode.IsLetter(c):
		sb.WriteByte(lower[r.IntN(26)])
	default:
		sb.WriteRune(c)
	}
}

// number masks the digits of a JSON number; it stays a valid number.
func (m *Masker) number(kind maskrule.Kind, s string) string {
	r := m.rng(kind, s, 0)
	b := []byte(s)
	lead := true
	for i, c := range b {
		if c < '0' || c > '9' {
			lead = c == '-' || c == 'e' || c == 'E' || c == '+'
			continue
		}
		next := i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '9'
		switch {
		case lead && next:
			b[i] = '1' + byte(r.IntN(9)) // no leading zero
		case c == '0' && lead:
			// a lone 0 stays 0 (0.5 stays a fraction)
		default:
			b[i] = '0' + byte(r.IntN(10))
		}
		lead = false
	}
	return string(b)
}

// id masks an identifier: the same shape, and the same replacement for
// the same value throughout the recording.
func (m *Masker) id(s string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.ids[s]; ok {
		return v
	}
	if m.taken[s] { // already a masked id (masked twice)
		return s
	}
	var out string
	for salt := 0; ; salt++ {
		out = m.idShape(s, salt)
		if (out != s || salt > 8) && !m.taken[out] {
			break
		}
		if salt > 64 {
			break
		}
	}
	m.ids[s] = out
	m.taken[out] = true
	return out
}

// idShape makes an id of the shape of s: hex stays hex (a UUID keeps
// its version and variant), other letters and digits as in shape.
func (m *Masker) idShape(s string, salt int) string {
	r := m.rng(maskrule.ID, s, salt)
	isHex := func(set string) bool {
		letters := false
		for _, c := range s {
			if c == '-' {
				continue
			}
			if !strings.ContainsRune(set, c) {
				return false
			}
			letters = letters || c > '9'
		}
		return letters
	}
	alphabet := ""
	switch {
	case isHex(hexLo):
		alphabet = hexLo
	case isHex(hexUp):
		alphabet = hexUp
	}
	uuid := len(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-'
	var sb strings.Builder
	for i, c := range s {
		switch {
		case uuid && i == 14:
			sb.WriteRune(c) // version
		case uuid && i == 19 && alphabet != "":
			sb.WriteByte("89ab"[r.IntN(4)])
		case alphabet != "" && c != '-':
			sb.WriteByte(alphabet[r.IntN(16)])
		default:
			keepClass(&sb, r, c)
		}
	}
	return sb.String()
}

var fakeNames = []string{
	"Alex", "Robin", "Sam", "Jordan", "Casey", "Morgan", "Taylor", "Jamie", "Riley", "Avery",
	"Quinn", "Rowan", "Harper", "Emerson", "Finley", "Hayden", "Kendall", "Logan", "Parker", "Reese",
	"Sawyer", "Skyler", "Blake", "Cameron", "Drew", "Elliot", "Frankie", "Jesse", "Kai", "Lane",
	"Example", "Sample", "Tester", "Placeholder", "Doe", "Roe", "Smith", "Miller", "Novak", "Garcia",
}

// name replaces each word of a name by a made-up name, keeping the case
// style (JUMIO SENDS CAPITALS).
func (m *Masker) name(s string) string {
	r := m.rng(maskrule.Name, s, 0)
	words := strings.Fields(s)
	for i, w := range words {
		n := fakeNames[r.IntN(len(fakeNames))]
		switch {
		case strings.ToUpper(w) == w:
			n = strings.ToUpper(n)
		case strings.ToLower(w) == w:
			n = strings.ToLower(n)
		}
		words[i] = n
	}
	if len(words) == 0 {
		return m.shape(maskrule.Name, s)
	}
	return strings.Join(words, " ")
}

// dateLayouts are the layouts date masking keeps.
var dateLayouts = []string{"2006-01-02", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05.000Z07:00", "02.01.2006", "2006/01/02", "20060102"}

// date replaces a date by another valid one in the same layout, on the
// same side of today (an expired document stays expired).
func (m *Masker) date(s string) string {
	for _, layout := range dateLayouts {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		r := m.rng(maskrule.Date, s, 0)
		today := time.Now().UTC().Truncate(24 * time.Hour)
		var d time.Time
		if t.Before(today) {
			d = today.AddDate(0, 0, -1-r.IntN(365*40)) // up to 40 years back
			if t.After(today.AddDate(-1, 0, 0)) {
				d = today.AddDate(0, 0, -1-r.IntN(365))
			}
		} else {
			d = today.AddDate(0, 0, 1+r.IntN(365*10))
		}
		d = time.Date(d.Year(), d.Month(), d.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
		return d.Format(layout)
	}
	return m.shape(maskrule.Date, s)
}

// email replaces an address by one at example.com.
func (m *Masker) email(s string) string {
	if !strings.Contains(s, "@") {
		return m.shape(maskrule.Email, s)
	}
	r := m.rng(maskrule.Email, s, 0)
	local := make([]byte, 8)
	for i := range local {
		local[i] = hexLo[r.IntN(16)]
	}
	return "user-" + string(local) + "@example.com"
}

// ip replaces an address by one of the documentation ranges (RFC 5737,
// RFC 3849).
func (m *Masker) ip(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return m.shape(maskrule.IP, s)
	}
	r := m.rng(maskrule.IP, s, 0)
	if a.Is4() {
		nets := [][3]byte{{192, 0, 2}, {198, 51, 100}, {203, 0, 113}}
		n := nets[r.IntN(3)]
		return netip.AddrFrom4([4]byte{n[0], n[1], n[2], byte(1 + r.IntN(254))}).String()
	}
	var b [16]byte
	b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
	for i := 4; i < 16; i++ {
		b[i] = byte(r.IntN(256))
	}
	return netip.AddrFrom16(b).String()
}

var (
	alpha2 = []string{"AT", "BE", "BR", "CA", "CH", "CZ", "DE", "DK", "ES", "FI", "FR", "GB", "GR", "IE", "IT", "JP", "MX", "NL", "NO", "NZ", "PL", "PT", "SE", "SG", "US"}
	alpha3 = []string{"AUT", "BEL", "BRA", "CAN", "CHE", "CZE", "DEU", "DNK", "ESP", "FIN", "FRA", "GBR", "GRC", "IRL", "ITA", "JPN", "MEX", "NLD", "NOR", "NZL", "POL", "PRT", "SWE", "SGP", "USA"}
)

// country replaces an ISO 3166 alpha-2 or alpha-3 code by another of the
// same form.
func (m *Masker) country(s string) string {
	var list []string
	switch len(s) {
	case 2:
		list = alpha2
	case 3:
		list = alpha3
	default:
		return m.shape(maskrule.Country, s)
	}
	r := m.rng(maskrule.Country, s, 0)
	c := list[r.IntN(len(list))]
	if c == strings.ToUpper(s) {
		c = list[(slices.Index(list, c)+1)%len(list)]
	}
	if strings.ToLower(s) == s {
		c = strings.ToLower(c)
	}
	return c
}

// url points a URL at VendorBase, masks the ids in its path and the
// values of its query, and drops user info and fragment.
func (m *Masker) url(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return m.shape(maskrule.URL, s)
	}
	segs := strings.Split(u.EscapedPath(), "/")
	for i, seg := range segs {
		dec, err := url.PathUnescape(seg)
		if err != nil || dec == "" {
			segs[i] = m.shape(maskrule.URL, seg)
			continue
		}
		m.mu.Lock()
		known, ok := m.ids[dec]
		m.mu.Unlock()
		switch {
		case ok:
			segs[i] = url.PathEscape(known)
		case idLike(dec):
			segs[i] = url.PathEscape(m.id(dec))
		default:
			segs[i] = seg
		}
	}
	out := VendorBase + strings.Join(segs, "/")
	if u.RawQuery != "" {
		q := u.Query()
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			for _, v := range q[k] {
				parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(m.shape(maskrule.URL, v)))
			}
		}
		out += "?" + strings.Join(parts, "&")
	}
	return out
}

// idLike says a path segment looks like an id rather than a word: it
// holds a digit and is at least 6 characters long, or it is long.
func idLike(s string) bool {
	if utf8.RuneCountInString(s) >= 20 {
		return true
	}
	return len(s) >= 6 && strings.ContainsAny(s, "0123456789")
}
