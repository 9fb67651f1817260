package event

import (
	"encoding/binary"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
)

// One identity per subject. A vendor keeps, for each subject, the
// identifying fields it sends with every callback about it: the
// customer's own references and the vendor's other ids. Real receivers
// find their users by them (most by the customer's reference), so every
// event about one subject must carry the same ones, and take the same
// seed-chosen variants (a Netverify transaction with a customerId has it
// in every callback). The identity fields by product:
//
//   - sumsub: inspectionId, externalUserId, applicantType, levelName
//     (by the type's level: applicant, action, video and KYT levels differ);
//   - jumio-kyx: account.id, userReference;
//   - jumio-netverify: merchantIdScanReference, customerId, and the
//     person on the document (names, date of birth, document number);
//   - jumio-auth: enrollmentTransactionReference;
//   - jumio-docverify: transaction.customerId,
//     transaction.merchantScanReference and transaction.source.
//
// IdentityFields lists them as paths.

// IdentityFields are, per product, the paths of the fields every event
// about one subject carries with the same value (when it carries them),
// besides the subject id itself.
var IdentityFields = map[string][]string{
	"sumsub":          {"inspectionId", "externalUserId", "applicantType"},
	"jumio-kyx":       {"account.id", "account.href", "userReference"},
	"jumio-netverify": {"merchantIdScanReference", "customerId", "idFirstName", "idLastName", "idDob", "idNumber"},
	"jumio-auth":      {"enrollmentTransactionReference"},
	"jumio-docverify": {"transaction.customerId", "transaction.merchantScanReference", "transaction.source"},
}

// SubjectPaths are the paths of the subject id by product.
var SubjectPaths = map[string]string{
	"jumio-kyx":       "workflowExecution.id",
	"jumio-netverify": "jumioIdScanReference",
	"jumio-auth":      "transactionReference",
	"jumio-docverify": "scanReference",
	"sumsub":          "applicantId",
}

// identity returns the seed of the subject's identity: Options.Identity,
// else one derived from the subject id, else none (ok false: every value
// is drawn from Rand, in the order the builders ask).
func identity(o *Options) (seed uint64, ok bool) {
	if o.Identity != nil {
		return *o.Identity, true
	}
	if o.Subject == "" {
		return 0, false
	}
	h := fnv.New64a()
	h.Write([]byte("kycsim identity\x00"))
	h.Write([]byte(o.Subject))
	return h.Sum64(), true
}

// stableRand returns the source of one named identity value or variant of
// the subject: the same for every event with the same identity, whatever
// else the event draws.
func (g *gen) stableRand(name string) *rand.Rand {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], g.ident)
	h.Write(b[:])
	h.Write([]byte(name))
	return NewRand(h.Sum64())
}

// per returns the generator of one named identity value: one drawing from
// the subject's identity when the event has one, else g itself (so that
// an event without identity draws as it always has).
func (g *gen) per(name string) *gen {
	if !g.hasIdent {
		return g
	}
	c := *g
	c.r = g.stableRand(name)
	return &c
}

// Variant is one seed-chosen variant of an event's shape: a choice point
// (which optional field appears, in which format) and the value taken.
type Variant struct {
	// Point names the choice point ("netverify.customerId"); Value is the
	// value taken ("absent").
	Point, Value string
	// Why says why real callbacks come this way.
	Why string
}

// String renders "point=value (why)".
func (v Variant) String() string {
	s := v.Point + "=" + v.Value
	if v.Why != "" {
		s += " (" + v.Why + ")"
	}
	return s
}

// variantInfo describes a choice point: its values, the usual one first,
// and why each other value is realistic.
type variantInfo struct {
	values []string
	why    map[string]string
}

// choicePoints are the choice points the builders take, with why each
// value other than the usual one is realistic.
var choicePoints = map[string]variantInfo{
	"netverify.customerId": {values: []string{"present", "absent"}, why: map[string]string{
		"absent": "customerId is sent only when the customer gave one when starting the transaction"}},
	"netverify.firstAttemptDate": {values: []string{"this-attempt", "earlier-attempt"}, why: map[string]string{
		"earlier-attempt": "the user tried before: firstAttemptDate is the first attempt's date, earlier than transactionDate"}},
	"netverify.livenessImages": {values: []string{"absent", "present"}, why: map[string]string{
		"present": "SDK transactions with identity verification carry livenessImages, in no particular order"}},
	"netverify.dlCategories": {values: []string{"absent", "present"}, why: map[string]string{
		"present": "driving licences of the countries that have categories carry dlCategories"}},
	"netverify.idAddress": {values: []string{"raw", "us", "eu"}, why: map[string]string{
		"us": "Jumio sent addresses in the US format (streetName, stateCode, zip) for US, Canadian, Australian and Mexican documents until August 2020, and integrations still receive it",
		"eu": "Jumio sent addresses in the EU format (streetName, province, postalCode) for German and Spanish documents until August 2020, and integrations still receive it"}},
	"netverify.rejectReasonDetails": {values: []string{"absent", "empty"}, why: map[string]string{
		"empty": "captured callbacks send rejectReasonDetails as [] for a reject code without details"}},
	"sumsub.correlationId": {values: []string{"hex", "req-uuid"}, why: map[string]string{
		"req-uuid": "correlationId as \"req-\" and a UUID, the form of Sumsub's examples, which real deliveries also carry"}},
	"sumsub.applicantId": {values: []string{"present", "absent"}, why: map[string]string{
		"absent": "a transaction monitoring transaction created without an applicant comes without applicantId"}},
}

// ChoicePoints lists every choice point and its values, the usual one
// first.
func ChoicePoints() map[string][]string {
	out := make(map[string][]string, len(choicePoints))
	for name, info := range choicePoints {
		out[name] = slices.Clone(info.values)
	}
	return out
}

// Variants returns the variants the event took that depart from the
// usual shape, each with why real callbacks come that way, sorted by
// choice point. A failure on such an event may come from the variant.
func (e *Event) Variants() []Variant {
	var out []Variant
	for point, value := range e.variants {
		info, ok := choicePoints[point]
		if !ok || len(info.values) == 0 || info.values[0] == value {
			continue
		}
		out = append(out, Variant{Point: point, Value: value, Why: info.why[value]})
	}
	slices.SortFunc(out, func(a, b Variant) int { return strings.Compare(a.Point, b.Point) })
	return out
}
