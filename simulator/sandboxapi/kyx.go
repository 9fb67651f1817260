package sandboxapi

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/kycsim/kycsim/simulator/sandbox"
)

// KYX retrieval: the credentials a workflow definition asks for, the
// capabilities it runs on them, and the decision each capability took,
// as Jumio's KYX API guide (Retrieval, "Get Workflow Details") describes
// them. Ids are derived from the workflow execution's id, so that the
// account answer, the retrieval and the part URLs agree without storing
// them; extraction data is drawn from the same seed, so that every
// retrieval of a workflow tells the same person.

// kyxCredential is a credential of a workflow execution.
type kyxCredential struct {
	ID       string
	Category string
}

// workflowProfile is what a workflow definition key runs: the credential
// categories it acquires and whether it screens watchlists.
type workflowProfile struct {
	categories []string
	watchlist  bool
}

// profileOf returns the profile of a definition key, after the KYX guide's
// workflow descriptions: 2 ID verification; 3, 10011 ID and identity
// verification; 6 standalone liveness; 20 similarity of two images; 32,
// 10013 ID and identity verification with screening. Other keys run ID
// and identity verification, the most common workflow.
func profileOf(key string) workflowProfile {
	switch key {
	case "2":
		return workflowProfile{categories: []string{"ID"}}
	case "6":
		return workflowProfile{categories: []string{"SELFIE", "FACEMAP"}}
	case "20":
		return workflowProfile{categories: []string{"ID", "SELFIE"}}
	case "32", "10013":
		return workflowProfile{categories: []string{"ID", "SELFIE", "FACEMAP"}, watchlist: true}
	}
	return workflowProfile{categories: []string{"ID", "SELFIE", "FACEMAP"}}
}

// derivedUUID returns a version 4 shaped UUID derived from the parts.
func derivedUUID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	b := h[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b)
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// kyxCredentials returns the credentials of a workflow execution.
func kyxCredentials(v *sandbox.Verification, rec *record) []kyxCredential {
	var out []kyxCredential
	for _, c := range profileOf(rec.DefinitionKey).categories {
		out = append(out, kyxCredential{ID: derivedUUID("credential", v.ID, c), Category: c})
	}
	return out
}

// apiParts are the parts each credential category takes through the API
// channel (lower case, as the account answer's api.parts names them).
// A FACEMAP comes from the liveness capture of the SDK or web client
// only, so it has no API channel.
var apiParts = map[string][]string{"ID": {"front", "back"}, "SELFIE": {"face"}}

// requiredParts are the parts a finalization needs (upper case): a
// two-sided document's BACK is optional, as the sandbox cannot tell the
// document type.
var requiredParts = map[string][]string{"ID": {"FRONT"}, "SELFIE": {"FACE"}}

// identity is the person and document a workflow's extraction tells.
type identity struct {
	docType, subType, country, first, last, number, gender string
	dob, issued, expiry                                    time.Time
	street, city, postalCode                               string
}

var (
	idFirstNames = []string{"JANE", "JOHN", "MARIA", "LUKAS", "AMELIA", "NOAH", "SOFIA", "LIAM", "EMMA", "OLIVER"}
	idLastNames  = []string{"DOE", "SMITH", "MUELLER", "GARCIA", "ROSSI", "MARTIN", "NOVAK", "BROWN", "SILVA", "KOWALSKI"}
	idDocs       = [][3]string{{"PASSPORT", "", ""}, {"DRIVING_LICENSE", "REGULAR_DRIVING_LICENSE", ""}, {"ID_CARD", "NATIONAL_ID", ""}}
	idPlaces     = [][3]string{{"USA", "SPRINGFIELD", "62701"}, {"GBR", "LONDON", "SW1A 1AA"}, {"AUT", "WIEN", "1010"},
		{"DEU", "BERLIN", "10115"}, {"FRA", "PARIS", "75001"}, {"ESP", "MADRID", "28001"}, {"CAN", "TORONTO", "M5H 2N2"}}
	idStreets = []string{"MAIN STREET", "HIGH STREET", "PARK AVENUE", "STATION ROAD", "CHURCH LANE"}
)

// identityOf draws the identity of a workflow execution from its id.
func identityOf(v *sandbox.Verification) identity {
	h := sha256.Sum256([]byte("identity\x00" + v.ID))
	r := rand.New(rand.NewPCG(binary.BigEndian.Uint64(h[:8]), binary.BigEndian.Uint64(h[8:16])))
	doc := idDocs[r.IntN(len(idDocs))]
	place := idPlaces[r.IntN(len(idPlaces))]
	created := v.CreatedAt.UTC()
	id := identity{
		docType: doc[0], subType: doc[1], country: place[0],
		first: idFirstNames[r.IntN(len(idFirstNames))], last: idLastNames[r.IntN(len(idLastNames))],
		gender: []string{"F", "M"}[r.IntN(2)],
		dob:    time.Date(created.Year()-18-r.IntN(50), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC),
		expiry: time.Date(created.Year()+1+r.IntN(9), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC),
		street: fmt.Sprintf("%d %s", 1+r.IntN(200), idStreets[r.IntN(len(idStreets))]), city: place[1], postalCode: place[2],
	}
	id.issued = id.expiry.AddDate(-10, 0, 0)
	id.number = fmt.Sprintf("%c%08d", 'A'+rune(r.IntN(26)), r.IntN(100000000))
	return id
}

// twoSided reports whether the document has a back to capture.
func (id identity) twoSided() bool { return id.docType != "PASSPORT" }

// extractionData is the extraction capability's data.
func (id identity) extractionData() map[string]any {
	d := map[string]any{
		"type": id.docType, "issuingCountry": id.country, "firstName": id.first, "lastName": id.last,
		"dateOfBirth": id.dob.Format(time.DateOnly), "expiryDate": id.expiry.Format(time.DateOnly),
		"issuingDate": id.issued.Format(time.DateOnly), "documentNumber": id.number, "gender": id.gender,
		"address": map[string]any{"line1": id.street, "city": id.city, "postalCode": id.postalCode, "country": id.country,
			"formattedAddress": id.street + ", " + id.city + " " + id.postalCode + ", " + id.country},
	}
	if id.subType != "" {
		d["subType"] = id.subType
	}
	if id.docType == "PASSPORT" {
		d["personalNumber"] = "<<<<<<<<<<<<<<"
	}
	return d
}

// capability is one entry of a capability's array in the retrieval.
type capability struct {
	name        string
	id          string
	credentials []kyxCredential
	decision    string
	label       string
	data        map[string]any
}

func (c *capability) json() map[string]any {
	creds := make([]any, len(c.credentials))
	for i, cr := range c.credentials {
		creds[i] = map[string]any{"id": cr.ID, "category": cr.Category}
	}
	out := map[string]any{"id": c.id, "credentials": creds, "decision": map[string]any{"type": c.decision, "details": map[string]any{"label": c.label}}}
	if c.data != nil {
		out["data"] = c.data
	}
	return out
}

// capabilityDeps lists the capabilities each depends on (the guide's
// "capability execution dependencies"): a dependency that did not pass
// on a shared credential leaves the capability NOT_EXECUTED with
// PRECONDITION_NOT_FULFILLED.
var capabilityDeps = map[string][]string{
	"imageChecks":        {"usability"},
	"extraction":         {"usability", "imageChecks"},
	"dataChecks":         {"usability", "imageChecks", "extraction"},
	"watchlistScreening": {"usability", "imageChecks", "extraction"},
	"liveness":           {"usability"},
	"similarity":         {"usability"},
}

// capabilityOrder is the order dependencies are resolved in.
var capabilityOrder = []string{"usability", "imageChecks", "extraction", "dataChecks", "watchlistScreening", "liveness", "similarity"}

// capabilityLabels maps a decision label to the capability that takes
// it, per decision type, from the guide's capability tables.
var capabilityLabels = map[string]map[string]string{
	"REJECTED": {
		"BAD_QUALITY": "usability", "BLACK_WHITE": "usability", "MISSING_PAGE": "usability", "MISSING_SIGNATURE": "usability",
		"NOT_A_DOCUMENT": "usability", "PHOTOCOPY": "usability",
		"DIGITAL_COPY": "imageChecks", "WATERMARK": "imageChecks", "MANIPULATED_DOCUMENT": "imageChecks", "OTHER_REJECTION": "imageChecks",
		"GHOST_IMAGE_DIFFERENT": "imageChecks", "PUNCHED": "imageChecks", "SAMPLE": "imageChecks", "CHIP_MISSING": "imageChecks", "FAKE": "imageChecks",
		"LIVENESS_UNDETERMINED": "liveness", "ID_USED_AS_SELFIE": "liveness", "MULTIPLE_PEOPLE": "liveness", "MANIPULATED": "liveness",
		"NO_FACE_PRESENT": "liveness", "FACE_NOT_FULLY_VISIBLE": "liveness",
		"NO_MATCH":        "similarity",
		"NFC_CERTIFICATE": "dataChecks", "MISMATCHING_DATAPOINTS": "dataChecks", "MRZ_CHECKSUM": "dataChecks", "MISMATCHING_DATA_REPEATED_FACE": "dataChecks",
	},
	"WARNING": {
		"UNSUPPORTED_COUNTRY": "usability", "UNSUPPORTED_DOCUMENT_TYPE": "usability",
		"DIFFERENT_PERSON": "imageChecks", "REPEATED_FACE": "imageChecks",
		"AGE_DIFFERENCE": "liveness", "BAD_QUALITY": "liveness",
		"NOT_POSSIBLE": "similarity", "ALERT": "watchlistScreening",
	},
}

// kyxCapabilities returns the capabilities of a processed workflow
// execution: every capability its definition runs, PASSED unless the
// decision says otherwise. A rejection or warning fails the capability
// its label belongs to (the reason picked, else the scenario's
// capabilities, else a default per decision), and the capabilities that
// depend on it are not executed. A workflow not executed (expired) ran
// none.
func kyxCapabilities(v *sandbox.Verification, rec *record, channel string) map[string]any {
	d := rec.Decision
	out := map[string]any{}
	if d == nil || d.Type == "NOT_EXECUTED" {
		return out
	}
	creds := kyxCredentials(v, rec)
	byCat := map[string]kyxCredential{}
	for _, c := range creds {
		byCat[c.Category] = c
	}
	prof := profileOf(rec.DefinitionKey)
	var caps []*capability
	add := func(name string, cs ...kyxCredential) *capability {
		c := &capability{name: name, id: derivedUUID("capability", v.ID, name, fmt.Sprint(len(caps))), credentials: cs, decision: "PASSED", label: "OK"}
		caps = append(caps, c)
		return c
	}
	for _, c := range creds {
		add("usability", c)
	}
	id, hasID := byCat["ID"]
	selfie, hasSelfie := byCat["SELFIE"]
	face, hasFacemap := byCat["FACEMAP"]
	if hasID {
		add("imageChecks", id)
		add("extraction", id).data = identityOf(v).extractionData()
		add("dataChecks", id)
		if prof.watchlist {
			add("watchlistScreening", id).data = map[string]any{
				"searchDate": jumioTime(v.UpdatedAt), "searchStatus": "DONE", "searchId": fmt.Sprint(binary.BigEndian.Uint32([]byte(derivedUUID("search", v.ID))[:4])),
				"searchReference": derivedUUID("search", v.ID), "searchResultUrl": "https://screening.invalid/search/" + derivedUUID("search", v.ID), "searchResults": 0,
			}
		}
	}
	if hasFacemap && channel != "API" {
		add("liveness", face).data = map[string]any{"type": "JUMIO_STANDARD"}
	} else if hasSelfie && (!hasID || channel == "API") {
		add("liveness", selfie).data = map[string]any{"type": "JUMIO_STANDARD"}
	}
	if hasID && hasSelfie {
		add("similarity", id, selfie).data = map[string]any{"similarity": "MATCH"}
	}
	find := func(name string) []*capability {
		var out []*capability
		for _, c := range caps {
			if c.name == name {
				out = append(out, c)
			}
		}
		return out
	}
	fail := func(name, typ, label string) bool {
		cs := find(name)
		if len(cs) == 0 {
			return false
		}
		c := cs[0]
		if name == "usability" && hasID {
			c = cs[0] // the ID's
		}
		c.decision, c.label = typ, label
		return true
	}
	switch {
	case d.Type != "REJECTED" && d.Type != "WARNING":
	case d.Reason != "" && fail(capabilityLabels[d.Type][d.Reason], d.Type, d.Reason):
	case d.Reason == "" && applyScenarioCapabilities(d.Capabilities, find):
	case d.Type == "REJECTED":
		if !fail("imageChecks", "REJECTED", "MANIPULATED_DOCUMENT") {
			fail(firstOf(caps), "REJECTED", "LIVENESS_UNDETERMINED")
		}
	default: // WARNING
		if !fail("watchlistScreening", "WARNING", "ALERT") && !fail("similarity", "WARNING", "NOT_POSSIBLE") && !fail("imageChecks", "WARNING", "REPEATED_FACE") {
			fail("liveness", "WARNING", "AGE_DIFFERENCE")
		}
	}
	// Dependencies, in order: a capability whose dependency did not pass
	// on a credential they share was not executed.
	for _, name := range capabilityOrder {
		for _, c := range find(name) {
			if c.decision != "PASSED" {
				continue
			}
			for _, dep := range capabilityDeps[name] {
				for _, dc := range find(dep) {
					if (dc.decision == "REJECTED" || dc.decision == "NOT_EXECUTED") && shareCredential(c, dc) {
						c.decision, c.label = "NOT_EXECUTED", "PRECONDITION_NOT_FULFILLED"
					}
				}
			}
		}
	}
	for _, c := range caps {
		switch {
		case c.decision == "NOT_EXECUTED":
			c.data = nil
		case c.name == "similarity" && c.decision == "REJECTED":
			c.data = map[string]any{"similarity": "NOT_MATCH"}
		case c.name == "similarity" && c.decision == "WARNING":
			c.data = map[string]any{"similarity": "NOT_POSSIBLE"}
		case c.name == "watchlistScreening" && c.decision == "WARNING":
			c.data["searchResults"] = 1
		}
		list, _ := out[c.name].([]any)
		out[c.name] = append(list, c.json())
	}
	return out
}

// firstOf names the first capability (liveness when there is no ID).
func firstOf(caps []*capability) string {
	for _, c := range caps {
		if c.name == "liveness" {
			return "liveness"
		}
	}
	return "usability"
}

// shareCredential reports whether two capabilities look at a credential
// in common.
func shareCredential(a, b *capability) bool {
	for _, x := range a.credentials {
		for _, y := range b.credentials {
			if x.ID == y.ID {
				return true
			}
		}
	}
	return false
}

// applyScenarioCapabilities sets the decisions a scenario's vendor state
// gives capabilities ({name: [{decision: {type, details: {label}}}]}),
// entry by entry; it reports whether it set any.
func applyScenarioCapabilities(caps map[string]any, find func(string) []*capability) bool {
	set := false
	for name, raw := range caps {
		entries, _ := raw.([]any)
		have := find(name)
		for i, e := range entries {
			if i >= len(have) {
				break
			}
			m, _ := e.(map[string]any)
			dec, _ := m["decision"].(map[string]any)
			typ, _ := dec["type"].(string)
			details, _ := dec["details"].(map[string]any)
			label, _ := details["label"].(string)
			if typ == "" {
				continue
			}
			if label == "" {
				label = typ
			}
			have[i].decision, have[i].label = typ, label
			set = true
		}
	}
	return set
}

// kyxCaptured reports whether a workflow's credentials were captured by
// status: acquired or processed (an expired one captured nothing the
// retrieval keeps).
func kyxCaptured(status string) bool { return status == "ACQUIRED" || status == "PROCESSED" }

// partHref is the retrieval URL of a credential part.
func (s *Server) partHref(accountID, credentialID, classifier string) string {
	return s.cfg.InternalURL + "/api/v1/accounts/" + accountID + "/credentials/" + credentialID + "/parts/" + classifier
}

// kyxPartsOf returns the parts of a credential as the retrieval lists
// them at a status: those uploaded through the API channel, else those a
// web or SDK capture has (an ID's front, and back for a two-sided
// document; a selfie's face; a facemap and its liveness frames). The
// facemap itself has no href, as in Jumio's example.
func (s *Server) kyxPartsOf(v *sandbox.Verification, rec *record, c kyxCredential, status string) []map[string]any {
	out := []map[string]any{}
	part := func(classifier string, href bool) {
		p := map[string]any{"classifier": classifier}
		if href {
			p["href"] = s.partHref(v.AccountID, c.ID, classifier)
		}
		out = append(out, p)
	}
	if rec.Channel == "API" {
		for _, cl := range []string{"FRONT", "BACK", "FACE"} {
			if slices.Contains(rec.Uploaded[c.ID], cl) {
				part(cl, true)
			}
		}
		return out
	}
	if !kyxCaptured(status) {
		return out
	}
	switch c.Category {
	case "ID":
		part("FRONT", true)
		if identityOf(v).twoSided() {
			part("BACK", true)
		}
	case "SELFIE":
		part("FACE", true)
	case "FACEMAP":
		part("FACEMAP", false)
		for i := 1; i <= 3; i++ {
			part(fmt.Sprintf("LIVENESS_%d", i), true)
		}
	}
	return out
}

// kyxDetails answers the KYX retrieval of a workflow's details.
func (s *Server) kyxDetails(w http.ResponseWriter, r *http.Request) error {
	v, rec, err := s.kyxVerification(r)
	if err != nil {
		return err
	}
	now := s.cfg.Clock.Now()
	key := "kyxDetails\x00" + v.ID
	if body, ok := s.answers.get(key, v.Version, now); ok {
		writeRawJSON(w, body)
		return nil
	}
	status, at := rec.statusAt(now, "INITIATED")
	wf := map[string]any{"id": v.ID, "status": status, "definitionKey": rec.DefinitionKey, "customerInternalReference": v.ExternalRef}
	if rec.UserReference != "" {
		wf["userReference"] = rec.UserReference
	}
	creds := []any{}
	for _, c := range kyxCredentials(v, rec) {
		creds = append(creds, map[string]any{"id": c.ID, "category": c.Category, "parts": s.kyxPartsOf(v, rec, c, status)})
	}
	out := map[string]any{"workflow": wf, "account": map[string]any{"id": v.AccountID}, "createdAt": jumioTime(v.CreatedAt), "credentials": creds}
	if len(rec.Timeline) > 0 && !rec.Timeline[0].At.After(now) {
		out["startedAt"] = jumioTime(rec.Timeline[0].At)
	}
	switch status {
	case "PROCESSED", "SESSION_EXPIRED", "TOKEN_EXPIRED":
		out["completedAt"] = jumioTime(at)
		if d := rec.Decision; d != nil {
			out["decision"] = map[string]any{"type": d.Type, "details": map[string]any{"label": d.Label}, "risk": map[string]any{"score": d.RiskScore}}
			out["capabilities"] = kyxCapabilities(v, rec, rec.Channel)
		}
	}
	body, err := encodeJSON(out)
	if err != nil {
		return err
	}
	// The answer is the verification's version's and the status's alone
	// (uploads are in the record): good until the status changes.
	s.answers.put(key, v.Version, rec.nextMark(now), body)
	writeRawJSON(w, body)
	return nil
}

// kyxPart answers a credential part's image: the one uploaded through
// the API channel, or one the sandbox draws for a web capture.
func (s *Server) kyxPart(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	vars := mux.Vars(r)
	account, credID, classifier := vars["accountId"], vars["credentialId"], strings.ToUpper(vars["classifier"])
	v, rec, cred, err := s.findCredential(ctx, account, credID)
	if err != nil {
		return err
	}
	status, _ := rec.statusAt(s.cfg.Clock.Now(), "INITIATED")
	found := false
	for _, p := range s.kyxPartsOf(v, rec, cred, status) {
		if p["classifier"] == classifier && p["href"] != nil {
			found = true
		}
	}
	if !found {
		return errorf(http.StatusNotFound, "credential %s has no part %s (yet)", credID, classifier)
	}
	if rec.Channel == "API" {
		p, err := s.cfg.Store.Part(ctx, v.ID, credID, classifier)
		if err != nil {
			return err
		}
		writeBytes(w, p.ContentType, p.Data)
		return nil
	}
	return writeImage(w, r, drawnImage(v.ID+"/"+credID+"/"+classifier, cred.Category != "ID"))
}

// findCredential finds the workflow execution of an account that has a
// credential.
func (s *Server) findCredential(ctx context.Context, accountID, credentialID string) (*sandbox.Verification, *record, kyxCredential, error) {
	notFound := errorf(http.StatusNotFound, "no credential %s in account %s", credentialID, accountID)
	vs, err := s.cfg.Store.Verifications(ctx, sandbox.VerificationFilter{Product: "jumio-kyx", AccountID: accountID, Limit: sandbox.MaxLimit})
	if err != nil {
		return nil, nil, kyxCredential{}, err
	}
	for _, v := range vs {
		rec, err := readRecord(v)
		if err != nil {
			return nil, nil, kyxCredential{}, err
		}
		for _, c := range kyxCredentials(v, rec) {
			if c.ID == credentialID {
				return v, rec, c, nil
			}
		}
	}
	return nil, nil, kyxCredential{}, notFound
}
