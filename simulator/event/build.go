package event

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kycsim/kycsim/spec"
)

// DefaultVendorBase is the base URL every href, image URL and retrieval
// link points at unless Options.VendorBase says otherwise: the sandbox's
// default address, so a receiver following a link reaches kycsim, never
// the real vendor.
const DefaultVendorBase = "http://127.0.0.1:8089"

// DefaultPrecision is the number of millisecond digits Jumio usually
// sends (YYYY-MM-DDThh:mm:ss.SSSZ).
const DefaultPrecision = 3

// The forms of the Sumsub sandboxMode field (Options.SandboxMode).
const (
	SandboxModeBool   = "bool"   // a JSON boolean, as the attribute table says and real deliveries send it
	SandboxModeString = "string" // the string "true" or "false", as most examples send it
)

// The forms of the fields whose type a vendor's field table and its own
// samples (and captured deliveries) disagree on (Options.Form).
const (
	// FormReal sends them as the vendors really do: Netverify
	// identityVerification.validity and Document Verification
	// signatureAvailable as JSON booleans, the Authentication
	// idScanImageFace as a plain URL, Netverify rejectReasonDetails as []
	// for a code without details (a seed-chosen variant), and Sumsub
	// transaction monitoring (KYT) webhooks without inspectionId and
	// levelName. Such events pass level vendor.
	FormReal = "real"
	// FormTable sends them as the field tables type them ("TRUE",
	// "true", a JSON array of URLs, the documented envelope), so that
	// every event passes level strict.
	FormTable = "table"
)

// Forms lists the values of Options.Form.
var Forms = []string{FormReal, FormTable}

// Options says how to build an event. The zero value builds the vendor's
// usual event with generated ids at the current time.
type Options struct {
	// Precision is the number of millisecond digits of Jumio timestamps,
	// 0 to 3. It is a pointer so that 0 (no fraction) differs from unset:
	// nil, or -1, means the vendor's usual DefaultPrecision. Digits(n)
	// makes one. Sumsub timestamps have a fixed shape; a Precision other
	// than nil or -1 is an error for Sumsub.
	Precision *int
	// SandboxMode is the form of Sumsub's sandboxMode, which every
	// webhook carries, as real deliveries do: SandboxModeBool (the
	// default when empty: the Boolean the attribute table documents and
	// real deliveries send) or SandboxModeString (the string most of the
	// vendor's examples show; valid at level vendor only).
	SandboxMode string
	// Sandbox is the value of Sumsub's sandboxMode (false by default).
	Sandbox bool
	// Form is FormReal (the default when empty) or FormTable: how to send
	// the fields whose documented type the vendor's own samples and real
	// deliveries contradict.
	Form string
	// Nulls makes a Sumsub webhook carry every optional attribute it has
	// no value for as an explicit null (applicantActionId,
	// externalApplicantActionId, previousLevelName, reviewResult,
	// videoIdentReviewStatus, applicantMemberOf), as real deliveries do.
	// Such events pass level vendor, not level strict.
	Nulls bool
	// VendorBase is the base URL of every href, image URL and retrieval
	// link; DefaultVendorBase when empty. It must be an absolute http or
	// https URL; a trailing slash is dropped.
	VendorBase string
	// Subject is the subject id: jumio-kyx workflowExecution.id (a UUID),
	// jumio-netverify jumioIdScanReference, jumio-auth
	// transactionReference, jumio-docverify scanReference (at most 36
	// characters each), sumsub applicantId. Generated when empty.
	Subject string
	// Now is the event time every timestamp derives from; time.Now() when
	// zero.
	Now time.Time
	// Rand is the source of generated values and of the seed-chosen
	// variants (which optional fields appear, the address format, the
	// correlationId form, ...); with a given source (and a fixed Now)
	// Build is deterministic. NewRand makes one from a seed. A random
	// source when nil.
	Rand *rand.Rand
	// Identity is the seed of what every event about the subject shares:
	// its identity fields (IdentityFields) and its seed-chosen variants.
	// Events built with the same Subject and Identity carry the same
	// identity fields and take the same variants, whatever Rand draws
	// otherwise. When nil, the identity derives from Subject, so that two
	// events about one subject agree; an event with neither draws
	// everything from Rand.
	Identity *uint64

	// AccountID is the jumio-kyx account.id (a UUID); generated when
	// empty.
	AccountID string
	// RejectCode is the jumio-netverify rejectReasonCode of a DENIED_FRAUD
	// (100, 105-111) or ERROR_NOT_READABLE_ID (102-104, 200-211, 300);
	// drawn from the message's codes when empty.
	RejectCode string
	// ReviewAnswer is the Sumsub reviewResult.reviewAnswer, GREEN or RED,
	// of a message that carries reviewResult; when empty, the type's
	// usual answer (GREEN; RED for applicantKytTxnRejected).
	ReviewAnswer string
	// ReviewRejectType is the reviewRejectType of a RED review, FINAL or
	// RETRY; FINAL when empty.
	ReviewRejectType string
	// RejectLabels are the rejectLabels of a RED review; drawn from the
	// labels of the reject type when empty.
	RejectLabels []string
}

// Digits returns a pointer to n, for Options.Precision.
func Digits(n int) *int { return &n }

// seedStream is the second word of the PCG state NewRand makes: fixed, so
// that a seed alone says which values are generated.
const seedStream = 0x6b7963_73696d // "kycsim"

// NewRand returns the source of generated values for a seed, for
// Options.Rand: the same seed (and the same Now) builds the same event.
func NewRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seedStream)) }

// RandomSeed returns a seed drawn at random, to print so that a run made
// with it can be repeated.
func RandomSeed() uint64 { return rand.Uint64() }

// builder builds the payloads of one product.
type builder struct {
	build func(g *gen, message string) (*Object, error)
	// subject is the path of the subject id in the payload.
	subject []string
	// checkOptions rejects options that do not apply to the product.
	checkOptions func(o *Options) error
}

var builders = map[string]builder{
	"jumio-kyx":       {buildKYX, []string{"workflowExecution", "id"}, checkKYXOptions},
	"jumio-netverify": {buildNetverify, []string{"jumioIdScanReference"}, checkNetverifyOptions},
	"jumio-auth":      {buildAuth, []string{"transactionReference"}, checkLegacyJumioOptions},
	"jumio-docverify": {buildDocVerify, []string{"scanReference"}, checkLegacyJumioOptions},
	"sumsub":          {buildSumsub, []string{"applicantId"}, checkSumsubOptions},
}

// Build makes the event of a product's message. The message name is
// matched as spec.Product.Message matches it (exactly, then ignoring
// case); Event.Message is the catalog's spelling.
func Build(cat *spec.Catalog, product, message string, opt Options) (*Event, error) {
	if cat == nil {
		return nil, fmt.Errorf("build %s %s: no catalog", product, message)
	}
	p, err := cat.Product(product)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", product, message, err)
	}
	m, err := p.Message(message)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", product, message, err)
	}
	b, ok := builders[p.Name]
	if !ok {
		return nil, fmt.Errorf("build %s %s: no event builder for product %s (kycsim builds %s)", product, message, p.Name, strings.Join(builderNames(), ", "))
	}
	g, err := newGen(&opt)
	if err == nil {
		err = b.checkOptions(&opt)
	}
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", p.Name, m.Name, err)
	}
	root, err := b.build(g, m.Name)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", p.Name, m.Name, err)
	}
	e := &Event{
		Product:     p.Name,
		Message:     m.Name,
		Encoding:    p.Encoding,
		ContentType: p.ContentType,
		Root:        root,
		subjectPath: b.subject,
		variants:    g.variants,
	}
	if p.Encoding == spec.EncodingForm {
		e.jsonFields = map[string]bool{}
		for _, f := range p.JSONFields() {
			e.jsonFields[f] = true
		}
	}
	e.syncSubject()
	return e, nil
}

func builderNames() []string {
	return []string{"jumio-kyx", "jumio-netverify", "jumio-auth", "jumio-docverify", "sumsub"}
}

// newGen checks the options every product shares and sets up generation.
func newGen(o *Options) (*gen, error) {
	g := &gen{r: o.Rand, now: o.Now.UTC(), digits: DefaultPrecision, base: DefaultVendorBase, variants: map[string]string{}}
	if g.r == nil {
		g.r = rand.New(runtimeSource{})
	}
	if o.Now.IsZero() {
		g.now = time.Now().UTC()
	}
	if y := g.now.Year(); y < 1900 || y > 9000 {
		return nil, fmt.Errorf("now %s: the year must be between 1900 and 9000", g.now.Format(time.RFC3339))
	}
	if o.Precision != nil && *o.Precision != -1 {
		if *o.Precision < 0 || *o.Precision > 3 {
			return nil, fmt.Errorf("precision %d: Jumio timestamps have 0 to 3 millisecond digits (-1 for the usual %d)", *o.Precision, DefaultPrecision)
		}
		g.digits = *o.Precision
	}
	if o.VendorBase != "" {
		base, err := checkBase(o.VendorBase)
		if err != nil {
			return nil, err
		}
		g.base = base
	}
	if !utf8.ValidString(o.Subject) {
		return nil, errors.New("subject: not valid UTF-8")
	}
	switch o.Form {
	case "", FormReal:
		g.table = false
	case FormTable:
		g.table = true
	default:
		return nil, fmt.Errorf("form %q: use %q or %q", o.Form, FormReal, FormTable)
	}
	g.opt = o
	g.ident, g.hasIdent = identity(o)
	return g, nil
}

// runtimeSource draws from the runtime's random generator, safe for
// concurrent use.
type runtimeSource struct{}

func (runtimeSource) Uint64() uint64 { return rand.Uint64() }

// precisionSet reports whether the options ask for a precision.
func precisionSet(o *Options) bool { return o.Precision != nil && *o.Precision != -1 }

// checkJumioShared rejects the Sumsub options for a Jumio product.
func checkJumioShared(o *Options) error {
	switch {
	case o.SandboxMode != "":
		return errors.New("sandbox mode: sandboxMode is a Sumsub field")
	case o.Sandbox:
		return errors.New("sandbox: sandboxMode is a Sumsub field")
	case o.ReviewAnswer != "" || o.ReviewRejectType != "" || len(o.RejectLabels) > 0:
		return errors.New("review answer: reviewResult is a Sumsub field")
	case o.Nulls:
		return errors.New("nulls: explicit nulls for absent attributes are a Sumsub habit")
	}
	return nil
}

func checkLegacyJumioOptions(o *Options) error {
	if err := checkJumioShared(o); err != nil {
		return err
	}
	if o.AccountID != "" {
		return errors.New("account id: account.id is a jumio-kyx field")
	}
	if o.RejectCode != "" {
		return errors.New("reject code: rejectReason is a jumio-netverify field")
	}
	return checkReference(o.Subject)
}

// checkReference checks a legacy Jumio transaction reference: at most 36
// characters, as the guide's tables say.
func checkReference(s string) error {
	if n := utf8.RuneCountInString(s); n > 36 {
		return fmt.Errorf("subject %q: a Jumio reference has at most 36 characters, not %d", s, n)
	}
	return nil
}
