package sandboxapi

import (
	"net/http"
	"strings"
)

// SumsubOperation is one operation of Sumsub's API reference, and
// whether the sandbox simulates it.
type SumsubOperation struct {
	// Method and Path as the reference writes them ({name} a path
	// variable; a final /** any rest of the path).
	Method, Path string
	// Name is the reference's name of the operation.
	Name string
	// Simulated says the sandbox answers it; any other request under
	// /resources/ answers 501 naming the operation.
	Simulated bool
}

// SumsubOperations are the operations of Sumsub's API reference an app
// is likely to call (docs.sumsub.com/reference), simulated or not. The
// README's table is this list.
var SumsubOperations = []SumsubOperation{
	{"POST", "/resources/applicants", "Create applicant (?levelName=)", true},
	{"GET", "/resources/applicants/{applicantId}/one", "Get applicant data", true},
	{"GET", "/resources/applicants/-;externalUserId={externalUserId}/one", "Get applicant data (externalUserId)", true},
	{"PATCH", "/resources/applicants", "Change top-level info", true},
	{"PATCH", "/resources/applicants/{applicantId}/fixedInfo", "Change provided info (fixedInfo)", true},
	{"GET", "/resources/applicants/{applicantId}/status", "Get applicant review status", true},
	{"GET", "/resources/applicants/{applicantId}/requiredIdDocsStatus", "Get status of verification steps", true},
	{"POST", "/resources/applicants/{applicantId}/info/idDoc", "Add ID document", true},
	{"GET", "/resources/inspections/{inspectionId}/resources/{imageId}", "Get document images", true},
	{"POST", "/resources/applicants/{applicantId}/status/pending", "Request applicant check", true},
	{"POST", "/resources/applicants/{applicantId}/status/testCompleted", "Simulate review response in Sandbox", true},
	{"POST", "/resources/applicants/{applicantId}/reset", "Reset applicant profile", true},
	{"POST", "/resources/accessTokens/sdk", "Generate access token (JSON body)", true},
	{"POST", "/resources/accessTokens", "Generate access token (older query form)", true},
	{"POST", "/resources/sdkIntegrations/levels/-/websdkLink", "Generate external WebSDK link (JSON body)", true},
	{"POST", "/resources/sdkIntegrations/levels/{levelName}/websdkLink", "Generate external WebSDK link (older path-level form)", true},
	{"GET", "/resources/status/api", "Get API health status", true},

	{"PATCH", "/resources/applicants/{applicantId}/info", "Change information extracted by Sumsub", false},
	{"PATCH", "/resources/applicants/{applicantId}/info/companyInfo", "Change company data", false},
	{"POST", "/resources/applicants/{applicantId}/info/companyInfo/beneficiaries", "Add applicant as beneficiary", false},
	{"GET", "/resources/applicants/{applicantId}/metadata/resources", "Get information about document images", false},
	{"DELETE", "/resources/inspections/{inspectionId}/resources/{imageId}", "Mark image as inactive", false},
	{"POST", "/resources/applicants/{applicantId}/moveToLevel", "Change level", false},
	{"POST", "/resources/applicants/{applicantId}/requiredIdDocs", "Change required document set", false},
	{"POST", "/resources/applicants/{applicantId}/resetStep/{idDocSetType}", "Reset verification step", false},
	{"POST", "/resources/applicants/{applicantId}/tags/add", "Add custom applicant tags", false},
	{"POST", "/resources/applicants/{applicantId}/tags", "Add and overwrite custom applicant tags", false},
	{"DELETE", "/resources/applicants/{applicantId}/tags", "Remove custom applicant tags", false},
	{"POST", "/resources/applicants/{applicantId}/blacklist", "Add applicant to blocklist", false},
	{"PATCH", "/resources/applicants/{applicantId}/presence/{status}", "Deactivate or activate applicant profile", false},
	{"POST", "/resources/applicants/{applicantId}/agreement", "Add applicant consent", false},
	{"DELETE", "/resources/applicants/{applicantId}", "Delete applicant profile", false},
	{"GET", "/resources/applicants/-/levels", "Get available levels", false},
	{"POST", "/resources/applicants/-/ingestCompleted", "Import applicants", false},
	{"GET", "/resources/moderationStates/-;applicantId={applicantId}", "Clarify rejection reason", false},
	{"GET", "/resources/checks/latest", "Get check results (TIN, email, phone, IP, PoA, company, eKYC)", false},
	{"POST", "/resources/inspectionCallbacks/testDigest", "Verify webhook sender", false},
	{"*", "/resources/applicantActions/**", "Applicant actions", false},
	{"*", "/resources/kyt/**", "Transaction monitoring", false},
	{"*", "/resources/applicants/{applicantId}/kyt/**", "Transaction monitoring", false},
	{"*", "/resources/applicants/{applicantId}/ekyc/**", "Non-doc verification (eKYC)", false},
	{"*", "/resources/videoIdent/**", "Video identification", false},
}

// match reports whether the operation is a request's.
func (op SumsubOperation) match(method, path string) bool {
	if op.Method != "*" && op.Method != method {
		return false
	}
	want := strings.Split(strings.Trim(op.Path, "/"), "/")
	got := strings.Split(strings.Trim(path, "/"), "/")
	for i, w := range want {
		if w == "**" {
			return len(got) > i
		}
		if i >= len(got) {
			return false
		}
		prefix, _, isVar := strings.Cut(w, "{")
		switch {
		case !isVar && w != got[i]:
			return false
		case isVar && (!strings.HasPrefix(got[i], prefix) || len(got[i]) == len(prefix)):
			return false
		case isVar && prefix == "" && strings.Contains(got[i], ";"):
			return false
		}
	}
	return len(want) == len(got)
}

// sumsubOperationOf names the operation of Sumsub's reference a request
// is; false when it is none the list knows.
func sumsubOperationOf(method, path string) (SumsubOperation, bool) {
	for _, op := range SumsubOperations {
		if op.match(method, path) {
			return op, true
		}
	}
	return SumsubOperation{}, false
}

// sumsubNotSimulated answers a signed request to a Sumsub path the
// sandbox does not simulate: 501 in Sumsub's error shape, naming the
// operation, never a 404 an app could read as "applicant not found".
func (s *Server) sumsubNotSimulated(w http.ResponseWriter, r *http.Request) {
	setRoute(w, "/resources/ (not simulated)")
	body, err := readBody(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	setBody(r, body)
	if err := s.sumsubSignature(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	what := r.Method + " " + r.URL.Path
	msg := "kycsim's Sumsub sandbox does not simulate " + what + ", an operation it does not know; see the README's table of Sumsub operations"
	op, ok := sumsubOperationOf(r.Method, r.URL.Path)
	if !ok {
		// A path the sandbox simulates with another method?
		for _, sim := range SumsubOperations {
			if sim.Simulated && sim.match(sim.Method, r.URL.Path) {
				op, ok = sim, true
				break
			}
		}
	}
	if ok {
		if op.Simulated {
			// A simulated path with another method.
			msg = "kycsim's Sumsub sandbox does not simulate " + what + "; it simulates " + op.Method + " " + op.Path + " (" + op.Name + ")"
		} else {
			msg = "kycsim's Sumsub sandbox does not simulate \"" + op.Name + "\" (" + what + "); see the README's table of Sumsub operations"
		}
	}
	s.writeError(w, r, &apiError{status: http.StatusNotImplemented, msg: msg})
}
