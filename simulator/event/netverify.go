package event

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Jumio Netverify (callBackType NETVERIFYID): a form whose nested objects
// are JSON texts, in the field order of the guide's samples (fields the
// samples lack go where the parameter table lists them, or at the end).
// verificationStatus names the message and decides the rest: idScanStatus
// is SUCCESS and the idCheck fields OK only when approved, extracted data
// and identityVerification come only with an approval, and rejectReason
// only with DENIED_FRAUD or ERROR_NOT_READABLE_ID.
//
// Beyond the samples, a callback carries what the guide allows and real
// callbacks show, as variants a seed chooses: customerId,
// firstAttemptDate (this attempt or an earlier one), livenessImages (SDK
// transactions with identity verification), dlCategories (driving
// licences of the countries that have them) and the US, EU or raw address
// format the guide lists for the document's country.

func checkNetverifyOptions(o *Options) error {
	if err := checkJumioShared(o); err != nil {
		return err
	}
	if o.AccountID != "" {
		return errors.New("account id: account.id is a jumio-kyx field")
	}
	return checkReference(o.Subject)
}

// idProfile is a kind of identity document a user may present.
type idProfile struct {
	country, idType, subtype string
	twoSided                 bool // front and back are captured
	mrz                      bool // the MRZ check applies
	address                  bool // Jumio extracts an address from it
}

var idProfiles = []idProfile{
	{"USA", "PASSPORT", "", false, true, false},
	{"USA", "DRIVING_LICENSE", "REGULAR_DRIVING_LICENSE", true, false, true},
	{"GBR", "PASSPORT", "", false, true, false},
	{"GBR", "DRIVING_LICENSE", "REGULAR_DRIVING_LICENSE", true, false, true},
	{"FRA", "ID_CARD", "NATIONAL_ID", true, true, true},
	{"FRA", "DRIVING_LICENSE", "REGULAR_DRIVING_LICENSE", true, false, true},
	{"ESP", "ID_CARD", "NATIONAL_ID", true, true, true},
	{"DEU", "ID_CARD", "NATIONAL_ID", true, true, true},
	{"CAN", "DRIVING_LICENSE", "REGULAR_DRIVING_LICENSE", true, false, true},
	{"AUT", "PASSPORT", "", false, true, false},
}

// addressFormats lists, by country, the formats besides raw that the
// guide's "Supported documents for address extraction" table gives its
// documents (US and EU until August 2020, raw for all since).
var addressFormats = map[string][]string{
	"USA": {"us"}, "CAN": {"us"}, "AUS": {"us"}, "MEX": {"us"},
	"DEU": {"eu"}, "ESP": {"eu"},
}

// dlCategoryCountries are the countries whose driving licences carry
// categories (dlCategories), per the guide's parameter table.
var dlCategoryCountries = []string{"AUT", "BEL", "BGR", "FRA", "DEU", "GBR", "ITA", "LVA", "LTU", "NLD", "ROU", "ESP", "TWN"}

// dlCategoryNames are European driving licence categories, the most common
// first.
var dlCategoryNames = []string{"B", "AM", "A1", "A2", "A", "BE", "C1", "C"}

// Reject reason codes and descriptions by verification status, from the
// guide's reject reason table.
var (
	fraudCodes      = []string{"100", "105", "106", "107", "108", "109", "110", "111"}
	unreadableCodes = []string{"102", "103", "104", "200", "201", "202", "206", "207", "209", "210", "211", "300"}
	rejectNames     = map[string]string{
		"100": "MANIPULATED_DOCUMENT", "105": "FRAUDSTER", "106": "FAKE", "107": "PHOTO_MISMATCH",
		"108": "MRZ_CHECK_FAILED", "109": "PUNCHED_DOCUMENT", "110": "CHIP_DATA_MANIPULATED",
		"111": "MISMATCH_PRINTED_BARCODE_DATA", "102": "PHOTOCOPY_BLACK_WHITE", "103": "PHOTOCOPY_COLOR",
		"104": "DIGITAL_COPY", "200": "NOT_READABLE_DOCUMENT", "201": "NO_DOCUMENT", "202": "SAMPLE_DOCUMENT",
		"206": "MISSING_BACK", "207": "WRONG_DOCUMENT_PAGE", "209": "MISSING_SIGNATURE",
		"210": "CAMERA_BLACK_WHITE", "211": "DIFFERENT_PERSONS_SHOWN", "300": "MANUAL_REJECTION",
	}
	// rejectDetails lists the detail codes of the reject codes that have
	// details (100 and 200), in the guide's order.
	rejectDetails = map[string][][2]string{
		"100": {{"1001", "PHOTO"}, {"1002", "DOCUMENT_NUMBER"}, {"1003", "EXPIRY"}, {"1004", "DOB"}, {"1005", "NAME"},
			{"1006", "ADDRESS"}, {"1007", "SECURITY_CHECKS"}, {"1008", "SIGNATURE"}, {"1009", "PERSONAL_NUMBER"}, {"10011", "PLACE_OF_BIRTH"}},
		"200": {{"2001", "BLURRED"}, {"2002", "BAD_QUALITY"}, {"2003", "MISSING_PART_DOCUMENT"},
			{"2004", "HIDDEN_PART_DOCUMENT"}, {"2005", "DAMAGED_DOCUMENT"}, {"2006", "GLARE"}},
	}
)

var netverifyStatuses = map[string][]string{
	"APPROVED_VERIFIED":             nil,
	"DENIED_FRAUD":                  fraudCodes,
	"DENIED_UNSUPPORTED_ID_TYPE":    nil,
	"DENIED_UNSUPPORTED_ID_COUNTRY": nil,
	"ERROR_NOT_READABLE_ID":         unreadableCodes,
	"NO_ID_UPLOADED":                nil,
}

// RejectCodes returns the rejectReasonCode values the Netverify guide
// lists for a verification status, in its order: those of DENIED_FRAUD
// and ERROR_NOT_READABLE_ID; nil for a status that carries no
// rejectReason (or is not one).
func RejectCodes(status string) []string { return slices.Clone(netverifyStatuses[status]) }

// RejectCodeStatus returns the verification status a reject code belongs
// to, or "" for a code the guide does not list (101 does not exist; 212
// is in an older document only).
func RejectCodeStatus(code string) string {
	for _, st := range []string{"DENIED_FRAUD", "ERROR_NOT_READABLE_ID"} {
		if slices.Contains(netverifyStatuses[st], code) {
			return st
		}
	}
	return ""
}

// buildNetverify builds the Netverify callback of one verification
// status. It is one function for the six statuses, not one per status,
// on purpose: the fields go out in the order Jumio's callbacks carry them
// (the guide's sample and captured deliveries; the golden bodies in
// testdata/golden/jumio-netverify.*.golden hold it), and what a status changes
// is which fields are there and their values, interleaved through that
// order: approved adds the person's data and the identity check, uploaded
// the document and its images, a reject code the rejectReason. So the
// facts are worked out first (code, source, checks, the person, dates)
// and the fields are then written once, in the vendor's order, each
// under the condition that puts it there.
func buildNetverify(g *gen, status string) (*Object, error) {
	codes, ok := netverifyStatuses[status]
	if !ok {
		return nil, fmt.Errorf("no jumio-netverify verification status %s", status)
	}
	code := g.opt.RejectCode
	switch {
	case code != "" && codes == nil:
		return nil, fmt.Errorf("reject code %s: %s carries no rejectReason (only DENIED_FRAUD and ERROR_NOT_READABLE_ID do)", code, status)
	case code != "" && !slices.Contains(codes, code):
		return nil, fmt.Errorf("reject code %s: %s reject codes are %s", code, status, strings.Join(codes, ", "))
	case code == "" && codes != nil:
		code = g.pick(codes)
	}
	ref := g.opt.Subject
	if ref == "" {
		ref = g.uuid()
	}
	approved := status == "APPROVED_VERIFIED"
	uploaded := status != "NO_ID_UPLOADED"

	doc := g.per("netverify.document").idDocument(status, code)
	source := g.pick([]string{"SDK", "WEB_CAM", "WEB_UPLOAD", "API"})
	switch {
	case !uploaded:
		source = "WEB" // the user never chose a capture method
	case code == "103":
		source = "WEB_CAM" // PHOTOCOPY_COLOR is told from camera captures
	case code == "110" || doc.subtype == "E_PASSPORT":
		source = "SDK" // e-passport chips are read by the mobile SDK
	}
	check := "N/A"
	if approved {
		check = "OK"
	}
	mrzCheck := "N/A"
	if approved && doc.mrz {
		mrzCheck = "OK"
	}
	var who struct{ first, last, number string }
	var addr address
	var idAddress *Object
	// The person on the document is the subject's, in every callback;
	// with an identity, the dates count from the start of the year, so
	// that callbacks days apart agree on them.
	person := func(name string) *gen {
		pg := g.per(name)
		if pg != g {
			pg.now = time.Date(g.now.Year(), time.January, 1, 0, 0, 0, 0, time.UTC)
		}
		return pg
	}
	if approved {
		names := person("netverify.name")
		who.first, who.last = names.pick(firstNames), names.pick(lastNames)
		who.number = person("netverify.idNumber").idNumber(doc)
		if doc.address {
			addr = g.address(doc.country)
			idAddress = g.idAddress(addr)
		}
	}
	images := g.base + "/recognition/v1/idscan/" + ref + "/"
	var started time.Time
	if uploaded {
		started = g.now.Add(-g.between(2*time.Minute, 15*time.Minute))
	} else {
		// Cleaned up when the authorization token (30 minutes by default)
		// expires.
		started = g.now.Add(-g.between(30*time.Minute, 31*time.Minute))
	}
	// The customer's id is there when the customer gave one; the first
	// attempt is this transaction or one before it.
	customerID := ""
	if g.variant("netverify.customerId", "present", "absent") == "present" {
		customerID = "customer-" + g.per("netverify.customerId").digitString(6)
	}
	firstAttempt := started
	if g.variant("netverify.firstAttemptDate", "this-attempt", "earlier-attempt") == "earlier-attempt" {
		firstAttempt = started.Add(-g.between(time.Hour, 72*time.Hour))
	}
	// Liveness images come only with identity verification done in the
	// mobile SDKs, in no particular order.
	var liveness []any
	if approved && source == "SDK" {
		g.note("netverify.livenessImages", "present")
		for i := range 3 + g.r.IntN(5) {
			liveness = append(liveness, images+"liveness/"+itoa(i+1))
		}
	} else {
		g.note("netverify.livenessImages", "absent")
	}
	var categories []any
	if approved && doc.idType == "DRIVING_LICENSE" && slices.Contains(dlCategoryCountries, doc.country) &&
		g.variant("netverify.dlCategories", "present", "absent") == "present" {
		categories = g.dlCategories()
	}

	f := NewObject()
	if approved {
		f.set("idExpiry", date(person("netverify.idExpiry").expiryDate()))
	}
	if uploaded {
		f.set("idType", doc.idType)
		if doc.subtype != "" {
			f.set("idSubtype", doc.subtype)
		}
	}
	if approved {
		f.set("idDob", date(person("netverify.idDob").birthDate()))
	}
	f.set("idCheckSignature", check)
	if code != "" {
		f.set("rejectReason", g.rejectReason(code))
	}
	f.set("idCheckDataPositions", check)
	f.set("idCheckHologram", check)
	f.set("idCheckMicroprint", check)
	f.set("idCheckDocumentValidation", check)
	if uploaded {
		f.set("idCountry", doc.country)
	}
	if approved && addr.subdivision != "" && (doc.country == "USA" || doc.country == "CAN") {
		f.set("idUsState", addr.subdivision[len(addr.subdivision)-2:])
	}
	f.set("idScanSource", source)
	if approved {
		f.set("idFirstName", who.first)
	}
	f.set("verificationStatus", status)
	f.set("jumioIdScanReference", ref)
	if approved && doc.idType == "PASSPORT" {
		f.set("personalNumber", "N/A")
	}
	f.set("merchantIdScanReference", "scan-"+g.per("netverify.merchantIdScanReference").hex(12))
	if customerID != "" {
		f.set("customerId", customerID)
	}
	f.set("idCheckSecurityFeatures", check)
	f.set("idCheckMRZcode", mrzCheck)
	if uploaded {
		f.set("idScanImage", images+"front")
		if approved {
			f.set("idScanImageFace", images+"face")
		}
		if doc.twoSided && code != "206" {
			f.set("idScanImageBackside", images+"back")
		}
	}
	f.set("callBackType", "NETVERIFYID")
	f.set("clientIp", g.clientIP())
	if approved {
		f.set("idLastName", who.last)
		if idAddress != nil {
			f.set("idAddress", idAddress)
		}
		if doc.country == "ESP" && doc.subtype == "NATIONAL_ID" {
			f.set("dni", who.number)
		}
	}
	if approved {
		f.set("idScanStatus", "SUCCESS")
		iv := NewObject()
		iv.set("similarity", "MATCH")
		// The table says TRUE/FALSE; the guide's sample and captured
		// callbacks send a JSON boolean.
		if g.table {
			iv.set("validity", "TRUE")
		} else {
			iv.set("validity", true)
		}
		f.set("identityVerification", iv)
		f.set("idNumber", who.number)
	} else {
		f.set("idScanStatus", "ERROR")
	}
	if categories != nil {
		f.set("dlCategories", categories)
	}
	if liveness != nil {
		f.set("livenessImages", liveness)
	}
	f.set("transactionDate", g.jumioTime(started))
	f.set("firstAttemptDate", g.jumioTime(firstAttempt))
	f.set("callbackDate", g.jumioTime(g.now))
	if err := checkURLs(f, "idScanImage", "idScanImageFace", "idScanImageBackside", "livenessImages"); err != nil {
		return nil, err
	}
	return f, nil
}

// idDocument picks the document of a transaction, consistent with its
// status and reject code.
func (g *gen) idDocument(status, code string) idProfile {
	var fits func(p idProfile) bool
	switch code {
	case "108": // MRZ_CHECK_FAILED needs an MRZ
		fits = func(p idProfile) bool { return p.mrz }
	case "110": // CHIP_DATA_MANIPULATED: e-passports only
		fits = func(p idProfile) bool { return p.idType == "PASSPORT" }
	case "111": // MISMATCH_PRINTED_BARCODE_DATA: North American licences carry a barcode
		fits = func(p idProfile) bool {
			return p.idType == "DRIVING_LICENSE" && (p.country == "USA" || p.country == "CAN")
		}
	case "206": // MISSING_BACK
		fits = func(p idProfile) bool { return p.twoSided }
	}
	var pool []idProfile
	for _, p := range idProfiles {
		if fits == nil || fits(p) {
			pool = append(pool, p)
		}
	}
	p := pool[g.r.IntN(len(pool))]
	switch {
	case code == "110":
		p.subtype = "E_PASSPORT"
	case status == "DENIED_UNSUPPORTED_ID_TYPE":
		// Visas are rejected as unsupported unless from the USA or China.
		p = idProfile{country: g.pick([]string{"IND", "BRA", "TUR", "THA", "ZAF"}), idType: "VISA"}
	case status == "DENIED_UNSUPPORTED_ID_COUNTRY":
		p = idProfile{country: g.pick([]string{"BRA", "IND", "NGA", "PHL", "VNM"}), idType: "PASSPORT", mrz: true}
	}
	return p
}

// idNumber returns a document number shaped like the document's.
func (g *gen) idNumber(p idProfile) string {
	switch {
	case p.idType == "PASSPORT":
		return g.letters(1) + g.digitString(8)
	case p.idType == "DRIVING_LICENSE":
		return g.letters(1) + g.digitString(7)
	case p.country == "ESP":
		return g.digitString(8) + g.letters(1)
	}
	return g.digitString(2) + g.letters(2) + g.digitString(8)
}

// rejectReason returns the rejectReason object of a code, with one or two
// details when the code has them. Real callbacks send an empty
// rejectReasonDetails for a code without details; in the real form that
// is a variant.
func (g *gen) rejectReason(code string) *Object {
	rr := NewObject()
	rr.set("rejectReasonCode", code)
	rr.set("rejectReasonDescription", rejectNames[code])
	all := rejectDetails[code]
	if all == nil && !g.table && g.variant("netverify.rejectReasonDetails", "empty", "absent") == "empty" {
		rr.set("rejectReasonDetails", []any{})
	}
	if all != nil {
		n := 1 + g.r.IntN(2)
		perm := g.r.Perm(len(all))[:n]
		slices.Sort(perm)
		details := make([]any, n)
		for i, j := range perm {
			d := NewObject()
			d.set("detailsCode", all[j][0])
			d.set("detailsDescription", all[j][1])
			details[i] = d
		}
		rr.set("rejectReasonDetails", details)
	}
	return rr
}

// idAddress renders an extracted address in one of the formats the guide
// gives the document's country, chosen by the seed.
func (g *gen) idAddress(a address) *Object {
	switch g.variant("netverify.idAddress", append([]string{"raw"}, addressFormats[a.country]...)...) {
	case "us":
		return g.usIDAddress(a)
	case "eu":
		return g.euIDAddress(a)
	}
	return rawIDAddress(a)
}

// usIDAddress renders an address in the US format, members in the order
// of the guide's table.
func (g *gen) usIDAddress(a address) *Object {
	o := NewObject()
	o.set("city", a.city)
	o.set("stateCode", a.subdivision)
	o.set("streetName", a.street.name)
	o.set("streetSuffix", a.street.abbrev)
	if g.r.IntN(3) == 0 {
		o.set("streetDirection", g.pick([]string{"N", "S", "E", "W"}))
	}
	o.set("streetNumber", a.number)
	if g.r.IntN(3) == 0 {
		o.set("unitDesignator", "APT")
		o.set("unitNumber", itoa(1+g.r.IntN(40)))
	}
	o.set("zip", a.postalCode)
	if a.country == "USA" && g.r.IntN(2) == 0 {
		o.set("zipExtension", g.digitString(4))
	}
	o.set("country", a.country)
	return o
}

// euIDAddress renders an address in the EU format, members in the order
// of the guide's table.
func (g *gen) euIDAddress(a address) *Object {
	o := NewObject()
	o.set("city", a.city)
	o.set("province", a.subdivision)
	o.set("streetName", a.street.full())
	o.set("streetNumber", a.number)
	if g.r.IntN(3) == 0 {
		o.set("unitDetails", itoa(1+g.r.IntN(5))+". OG")
	}
	o.set("postalCode", a.postalCode)
	o.set("country", a.country)
	return o
}

// dlCategories returns the categories of a European driving licence: B
// and up to two more, issued after the holder came of age.
func (g *gen) dlCategories() []any {
	names := []string{dlCategoryNames[0]}
	for _, i := range g.r.Perm(len(dlCategoryNames) - 1)[:g.r.IntN(3)] {
		names = append(names, dlCategoryNames[1+i])
	}
	out := make([]any, 0, len(names))
	for _, name := range names {
		c := NewObject()
		c.set("category", name)
		c.set("issueDate", date(g.now.AddDate(-1-g.r.IntN(15), -g.r.IntN(12), 0)))
		c.set("expiryDate", date(g.expiryDate()))
		out = append(out, c)
	}
	return out
}

// rawIDAddress renders an address in the raw format Jumio uses since
// August 2020, with formattedAddress.
func rawIDAddress(a address) *Object {
	o := NewObject()
	o.set("line1", a.line1())
	o.set("country", a.country)
	o.set("postalCode", a.postalCode)
	o.set("city", a.city)
	if a.subdivision != "" {
		o.set("subdivision", a.subdivision)
	}
	o.set("formattedAddress", a.formatted())
	return o
}

// checkURLs checks that the URLs in the named members fit Jumio's 255
// characters (a long VendorBase could push them over).
func checkURLs(o *Object, names ...string) error {
	for _, n := range names {
		v, _ := o.Get(n)
		var urls []any
		switch v := v.(type) {
		case string:
			urls = []any{v}
		case []any:
			urls = v
		}
		for _, u := range urls {
			if s, _ := u.(string); len(s) > 255 {
				return fmt.Errorf("vendor base too long: %s would be %d characters; Jumio sends at most 255", n, len(s))
			}
		}
	}
	return nil
}
