package load

import (
	"bytes"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kycsim/kycsim/simulator/event"
	"github.com/kycsim/kycsim/spec"
	"github.com/kycsim/kycsim/spec/format"
)

// Template is the body of one product's message built once, split around
// the values that differ from one callback to the next: the subject id
// (everywhere it appears, links included), the ids that follow from it
// (a Sumsub inspectionId), the Sumsub correlationId, applicantActionId
// and kytTxnId, and every timestamp (each kept at its distance from the
// event time).
// Everything else is the built event's bytes. Filling a template writes
// those bytes and the new values; it neither builds nor encodes objects.
//
// A Template is read-only once made and safe for concurrent use.
type Template struct {
	Product, Message string
	// ContentType is the product's content type.
	ContentType string

	segs    [][]byte // the fixed bytes around the slots: len(slots)+1
	slots   []slot
	subject subjectShape
	size    int // the length of every body
	form    bool
}

// slotKind says what fills a slot.
type slotKind int

const (
	slotSubject        slotKind = iota // the subject id
	slotInspection                     // the Sumsub inspectionId: the object id after the subject
	slotCorrelation                    // the UUID of the Sumsub correlationId
	slotCorrelationHex                 // a correlationId of 32 hex digits
	slotObjectID                       // a Sumsub applicantActionId or kytTxnId
	slotJumioTime                      // YYYY-MM-DDThh:mm:ss[.fff]Z
	slotSumsubMillis                   // yyyy-MM-dd HH:mm:ss.fff
	slotSumsubTime                     // yyyy-MM-dd HH:mm:ss+0000
)

// slot is one place in the body that a fill writes.
type slot struct {
	kind   slotKind
	at     int           // byte offset in the template's body, while building
	n      int           // bytes it replaces in that body
	offset time.Duration // timestamps: the distance from the event time
	digits int           // Jumio timestamps: millisecond digits
}

// subjectShape is the form of a product's subject id.
type subjectShape int

const (
	shapeUUID     subjectShape = iota // a version 4 UUID (Jumio)
	shapeObjectID                     // 24 hexadecimal digits, 4 bytes of time first (Sumsub)
)

// Fill holds the values that make one callback of a template unique.
type Fill struct {
	// Subject is the subject id: a UUID (36 bytes) or, for Sumsub, an
	// object id (24 bytes), the first SubjectLen bytes.
	Subject    [36]byte
	SubjectLen int
	// Correlation is the UUID of a Sumsub correlationId ("req-" and a
	// UUID); a correlationId of 32 hex digits is its digits.
	Correlation [36]byte
	// ObjectID is the Sumsub applicantActionId or kytTxnId.
	ObjectID [24]byte
	// Time is the event time every timestamp derives from.
	Time time.Time
}

// SubjectString returns the subject id.
func (f *Fill) SubjectString() string { return string(f.Subject[:f.SubjectLen]) }

// TemplateOptions are the event options a template is built with; the
// subject and the time are the fill's.
type TemplateOptions struct {
	Precision   *int   // Jumio millisecond digits (event.Options.Precision)
	SandboxMode string // Sumsub sandboxMode form (event.Options.SandboxMode)
	VendorBase  string // where links point (event.Options.VendorBase)
}

// NewTemplate builds the message's event once with event.Build and
// splits its body around the values a fill changes. It checks that
// filling the template with the event's own values gives back the
// event's exact bytes, so a template never sends what the builder would
// not.
func NewTemplate(cat *spec.Catalog, product, message string, opt TemplateOptions) (*Template, error) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	// The subject is given, so that the builder never picks a variant
	// without one: the subject is what makes each callback a new event.
	gen := &Sender{rng: mrand.New(mrand.NewPCG(uint64(now.UnixNano()), 1))}
	subject := make([]byte, 36)
	if p, err := cat.Product(product); err == nil && p.Name == "sumsub" {
		subject = subject[:24]
		gen.objectID(subject, now.Add(-time.Hour))
	} else {
		gen.uuid(subject)
	}
	ev, err := event.Build(cat, product, message, event.Options{
		Precision: opt.Precision, SandboxMode: opt.SandboxMode, VendorBase: opt.VendorBase, Now: now,
		Subject: string(subject),
	})
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	t, own, err := split(ev, now)
	if err != nil {
		return nil, fmt.Errorf("template %s %s: %w", ev.Product, ev.Message, err)
	}
	body := ev.Body()
	if got := t.Append(nil, own); !bytes.Equal(got, body) {
		return nil, fmt.Errorf("template %s %s: filled with the event's own values it gives other bytes than the event:\n%s\nwant\n%s", ev.Product, ev.Message, got, body)
	}
	return t, nil
}

// split finds the slots of an event's body and returns the template and
// the fill that reproduces the event.
func split(ev *event.Event, now time.Time) (*Template, Fill, error) {
	var own Fill
	t := &Template{Product: ev.Product, Message: ev.Message, ContentType: ev.ContentType, form: ev.Encoding == spec.EncodingForm}
	body := ev.Body()
	own.Time = now
	switch {
	case format.IsUUID(ev.Subject):
		t.subject = shapeUUID
	case isHex(ev.Subject, 24):
		t.subject = shapeObjectID
	default:
		return nil, own, fmt.Errorf("subject %q is neither a UUID nor an object id; kycsim cannot make it unique", ev.Subject)
	}
	own.SubjectLen = copy(own.Subject[:], ev.Subject)

	var slots []slot
	add := func(kind slotKind, value string, s slot) error {
		enc := value
		if t.form {
			enc = url.QueryEscape(value)
		}
		found := 0
		for i := 0; ; {
			j := bytes.Index(body[i:], []byte(enc))
			if j < 0 {
				break
			}
			s.kind, s.at, s.n = kind, i+j, len(enc)
			slots = append(slots, s)
			found++
			i += j + len(enc)
		}
		if found == 0 {
			return fmt.Errorf("the value %q is not in the body", value)
		}
		return nil
	}
	if err := add(slotSubject, ev.Subject, slot{}); err != nil {
		return nil, own, err
	}
	if t.subject == shapeObjectID {
		// Sumsub numbers an applicant's inspection after the applicant.
		var next [24]byte
		nextObjectID(next[:], own.Subject[:24])
		if bytes.Contains(body, next[:]) {
			if err := add(slotInspection, string(next[:]), slot{}); err != nil {
				return nil, own, err
			}
		}
	}
	var walkErr error
	walk(ev.Root, "", func(key, s string) {
		if walkErr != nil {
			return
		}
		switch {
		case key == "correlationId" && len(s) >= 36 && format.IsUUID(s[len(s)-36:]):
			copy(own.Correlation[:], s[len(s)-36:])
			walkErr = add(slotCorrelation, s[len(s)-36:], slot{})
		case key == "correlationId" && isHex(s, 32):
			// The fill's UUID without its dashes.
			copy(own.Correlation[:], s[:8]+"-"+s[8:12]+"-"+s[12:16]+"-"+s[16:20]+"-"+s[20:])
			walkErr = add(slotCorrelationHex, s, slot{})
		case (key == "applicantActionId" || key == "kytTxnId") && isHex(s, 24):
			copy(own.ObjectID[:], s)
			walkErr = add(slotObjectID, s, slot{})
		default:
			// Each timestamp keeps its distance from the event time, both
			// cut to the timestamp's precision, so that one rendered at the
			// event time stays equal to the event time.
			if ts, digits, err := format.ParseJumioTimestamp(s); err == nil {
				unit := time.Second
				for range digits {
					unit /= 10
				}
				walkErr = add(slotJumioTime, s, slot{offset: ts.Sub(now.Truncate(unit)), digits: digits})
			} else if ts, err := format.ParseSumsubCreatedAtMs(s); err == nil {
				walkErr = add(slotSumsubMillis, s, slot{offset: ts.Sub(now)})
			} else if ts, err := format.ParseSumsubCreatedAt(s); err == nil {
				walkErr = add(slotSumsubTime, s, slot{offset: ts.Sub(now.Truncate(time.Second))})
			}
		}
	})
	if walkErr != nil {
		return nil, own, walkErr
	}
	// A value that appears in two members (two equal timestamps) was
	// found twice for each; keep each place once.
	slices.SortFunc(slots, func(a, b slot) int { return a.at - b.at })
	slots = slices.CompactFunc(slots, func(a, b slot) bool { return a.at == b.at && a.n == b.n })
	prev := 0
	for _, s := range slots {
		if s.at < prev {
			return nil, own, errors.New("two varying values overlap in the body")
		}
		t.segs = append(t.segs, body[prev:s.at])
		prev = s.at + s.n
	}
	t.segs = append(t.segs, body[prev:])
	t.slots = slots
	t.size = len(body)
	return t, own, nil
}

// walk calls fn with every string value of v and the name of the member
// holding it ("" inside arrays).
func walk(v any, key string, fn func(key, s string)) {
	switch x := v.(type) {
	case string:
		fn(key, x)
	case event.FormText:
		fn(key, string(x))
	case *event.Object:
		for _, k := range x.Keys() {
			m, _ := x.Get(k)
			walk(m, k, fn)
		}
	case []any:
		for _, e := range x {
			walk(e, "", fn)
		}
	}
}

// Size returns the length of every body the template makes.
func (t *Template) Size() int { return t.size }

// Append appends the body of the callback that f describes to dst.
func (t *Template) Append(dst []byte, f Fill) []byte {
	var inspection [24]byte
	if t.subject == shapeObjectID && f.SubjectLen == 24 {
		nextObjectID(inspection[:], f.Subject[:24])
	}
	for i, s := range t.slots {
		dst = append(dst, t.segs[i]...)
		switch s.kind {
		case slotSubject:
			dst = append(dst, f.Subject[:f.SubjectLen]...)
		case slotInspection:
			dst = append(dst, inspection[:]...)
		case slotCorrelation:
			dst = append(dst, f.Correlation[:]...)
		case slotCorrelationHex:
			c := &f.Correlation
			dst = append(append(append(append(append(dst, c[0:8]...), c[9:13]...), c[14:18]...), c[19:23]...), c[24:36]...)
		case slotObjectID:
			dst = append(dst, f.ObjectID[:]...)
		default:
			var buf [32]byte
			ts := f.Time.Add(s.offset)
			var text []byte
			switch s.kind {
			case slotJumioTime:
				text = appendJumioTime(buf[:0], ts, s.digits)
			case slotSumsubMillis:
				text = appendSumsubMillis(buf[:0], ts)
			default:
				text = appendSumsubTime(buf[:0], ts)
			}
			if t.form {
				dst = appendQueryEscaped(dst, text)
			} else {
				dst = append(dst, text...)
			}
		}
	}
	return append(dst, t.segs[len(t.segs)-1]...)
}

// isHex reports whether s is n lowercase hexadecimal digits (24: a
// MongoDB object id, as Sumsub's ids are).
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// nextObjectID writes the object id after id (both 24 lowercase hex
// digits) to dst, as Sumsub numbers an applicant's inspection.
func nextObjectID(dst, id []byte) {
	copy(dst, id)
	for i := len(dst) - 1; i >= 0; i-- {
		switch dst[i] {
		case 'f':
			dst[i] = '0'
			continue
		case '9':
			dst[i] = 'a'
		default:
			dst[i]++
		}
		return
	}
}

// appendDigits appends v as exactly n decimal digits.
func appendDigits(b []byte, v, n int) []byte {
	var d [9]byte
	for i := n - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:n]...)
}

// appendDateTime appends yyyy-MM-dd, sep, HH:mm:ss of t in UTC.
func appendDateTime(b []byte, t time.Time, sep byte) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = appendDigits(b, y, 4)
	b = append(b, '-')
	b = appendDigits(b, int(mo), 2)
	b = append(b, '-')
	b = appendDigits(b, d, 2)
	b = append(b, sep)
	b = appendDigits(b, h, 2)
	b = append(b, ':')
	b = appendDigits(b, mi, 2)
	b = append(b, ':')
	return appendDigits(b, s, 2)
}

// appendJumioTime appends t as format.FormatJumioTimestamp renders it.
func appendJumioTime(b []byte, t time.Time, digits int) []byte {
	b = appendDateTime(b, t, 'T')
	if digits > 0 {
		ms := t.Nanosecond() / int(time.Millisecond)
		for i := digits; i < 3; i++ {
			ms /= 10
		}
		b = append(b, '.')
		b = appendDigits(b, ms, digits)
	}
	return append(b, 'Z')
}

// appendSumsubMillis appends t as format.FormatSumsubCreatedAtMs renders
// it.
func appendSumsubMillis(b []byte, t time.Time) []byte {
	b = appendDateTime(b, t, ' ')
	b = append(b, '.')
	return appendDigits(b, t.Nanosecond()/int(time.Millisecond), 3)
}

// appendSumsubTime appends t as format.FormatSumsubCreatedAt renders it.
func appendSumsubTime(b []byte, t time.Time) []byte {
	return append(appendDateTime(b, t, ' '), "+0000"...)
}

// appendQueryEscaped appends s escaped as url.QueryEscape escapes it.
func appendQueryEscaped(b, s []byte) []byte {
	const hex = "0123456789ABCDEF"
	for _, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b = append(b, c)
		case c == ' ':
			b = append(b, '+')
		default:
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return b
}

// describe names the template for messages.
func (t *Template) describe() string { return strings.TrimSpace(t.Product + " " + t.Message) }
