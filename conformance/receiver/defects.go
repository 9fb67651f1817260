package receiver

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/kycsim/kycsim/spec"
)

// Defect is a known receiver mistake the reference receiver can be made
// to have.
type Defect string

// The known defects, each a mistake integrators make.
const (
	// DefectNoSignatureCheck accepts Sumsub webhooks without checking
	// X-Payload-Digest.
	DefectNoSignatureCheck Defect = "no-signature-check"
	// DefectAssumeSHA256 ignores X-Payload-Digest-Alg and always checks
	// HMAC-SHA256.
	DefectAssumeSHA256 Defect = "assume-sha256"
	// DefectReserializedBody checks the digest over the body decoded and
	// encoded again instead of the raw bytes.
	DefectReserializedBody Defect = "reserialized-body"
	// DefectNoDedup acts on every delivery, redeliveries included.
	DefectNoDedup Defect = "no-dedup"
	// DefectMergeFinals deduplicates by subject alone, merging distinct
	// events (GREEN then RED, ACQUIRED then PROCESSED).
	DefectMergeFinals Defect = "merge-finals"
	// DefectStateRegression lets the last event delivered set the state,
	// so a late ACQUIRED overwrites PROCESSED.
	DefectStateRegression Defect = "state-regression"
	// DefectStrictMillis rejects Jumio timestamps without exactly three
	// millisecond digits.
	DefectStrictMillis Defect = "strict-millis"
	// DefectBoolSandboxMode rejects Sumsub's sandboxMode sent as a string.
	DefectBoolSandboxMode Defect = "bool-sandbox-mode"
	// DefectUnknownFields5xx answers 500 to a callback with a field the
	// documents do not name.
	DefectUnknownFields5xx Defect = "unknown-fields-5xx"
	// DefectRejectUnknownType answers 400 to a Sumsub type it does not know.
	DefectRejectUnknownType Defect = "reject-unknown-type"
	// DefectAcceptInvalid acts on callbacks whose content is wrong
	// (missing fields, bad values, wrong content type).
	DefectAcceptInvalid Defect = "accept-invalid"
	// DefectSlow answers after SlowDelay, beyond the vendor's deadline.
	DefectSlow Defect = "slow"
	// DefectAnySource accepts Jumio callbacks from any address.
	DefectAnySource Defect = "any-source"
	// DefectTrustForwardedFor takes the source from X-Forwarded-For even
	// when no proxy sets it, so anyone can claim a Jumio address.
	DefectTrustForwardedFor Defect = "trust-forwarded-for"
)

// Defects lists every known defect.
var Defects = []Defect{
	DefectNoSignatureCheck, DefectAssumeSHA256, DefectReserializedBody, DefectNoDedup, DefectMergeFinals,
	DefectStateRegression, DefectStrictMillis, DefectBoolSandboxMode, DefectUnknownFields5xx,
	DefectRejectUnknownType, DefectAcceptInvalid, DefectSlow, DefectAnySource, DefectTrustForwardedFor,
}

func defectNames() string {
	names := make([]string, len(Defects))
	for i, d := range Defects {
		names[i] = string(d)
	}
	return strings.Join(names, ", ")
}

// jumioTime matches a Jumio timestamp with any number of millisecond
// digits; group 1 holds them.
var jumioTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.(\d*))?Z$`)

// defective applies the content defects that are switched on to a
// callback the correct receiver accepts.
func (rc *Receiver) defective(p *spec.Product, body []byte, res *spec.Result, pl *spec.Payload) (outcome, bool) {
	obj, _ := pl.Value.(map[string]any)
	if rc.defects[DefectStrictMillis] && p.Name != "sumsub" {
		for _, v := range obj {
			if s, ok := v.(string); ok {
				if m := jumioTime.FindStringSubmatch(s); m != nil && len(m[1]) != 3 {
					return outcome{code: http.StatusBadRequest, msg: "timestamp " + s + " does not have 3 millisecond digits"}, true
				}
			}
		}
	}
	if rc.defects[DefectBoolSandboxMode] && p.Name == "sumsub" {
		if _, isString := obj["sandboxMode"].(string); isString {
			return outcome{code: http.StatusBadRequest, msg: "sandboxMode is not a boolean"}, true
		}
	}
	if rc.defects[DefectRejectUnknownType] && p.Name == "sumsub" && res.Message == "" {
		return outcome{code: http.StatusBadRequest, msg: "unknown type"}, true
	}
	if rc.defects[DefectUnknownFields5xx] {
		strict, err := p.Validate(body, spec.Options{Level: spec.LevelStrict, Encoding: pl.Encoding, Message: res.Message})
		if err == nil {
			for _, v := range strict.Violations {
				if v.Rule == "additionalProperties" {
					return outcome{code: http.StatusInternalServerError, msg: "unexpected field " + v.Place()}, true
				}
			}
		}
	}
	return outcome{}, false
}
