package sandboxapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/kycsim/kycsim/simulator"
	"github.com/kycsim/kycsim/simulator/sandbox"
)

// Netverify retrieval (the Netverify Retrieval API guide, v2): the scan's
// status, its data whole or by part (document, transaction,
// verification), and its images and liveness images, all from the
// callback the sandbox sent, so that retrieval and callback agree.

// livenessFrames is how many liveness images a transaction with identity
// verification has (the guide's sample lists seven; the number varies).
const livenessFrames = 4

// netverifyImageFields are the callback's image fields and their
// retrieval classifiers.
var netverifyImageFields = [][2]string{{"idScanImage", "front"}, {"idScanImageBackside", "back"}, {"idScanImageFace", "face"}}

// netverifyImagesBase is where a scan's images are retrieved.
func (s *Server) netverifyImagesBase(ref string) string {
	return s.cfg.InternalURL + "/api/netverify/v2/scans/" + ref + "/images/"
}

// finishNetverify makes planned Netverify callbacks agree with the
// retrieval: the customerId the app gave is always there (the generator
// leaves it out at random), the image URLs point at the sandbox's
// retrieval API and, where the face was checked (identity verification,
// which comes with an approval), the callback carries the liveness images
// the capture took, as real identity-verification callbacks do (the
// guide: liveness images come with the mobile SDKs, so the source is SDK
// then).
func (s *Server) finishNetverify(plan *simulator.Plan, ref string, rec *record) error {
	base := s.netverifyImagesBase(ref)
	for i := range plan.Callbacks {
		c := &plan.Callbacks[i]
		ev := c.Event
		if ev == nil {
			continue
		}
		if rec.UserReference != "" {
			if err := ev.SetValue("customerId", rec.UserReference); err != nil {
				return err
			}
		}
		for _, f := range netverifyImageFields {
			if _, err := ev.Get(f[0]); err == nil {
				if err := ev.SetValue(f[0], base+f[1]); err != nil {
					return err
				}
			}
		}
		if _, err := ev.Get("idScanImageFace"); err == nil {
			urls := make([]string, livenessFrames)
			for n := range urls {
				urls[n] = base + "liveness/" + strconv.Itoa(n+1)
			}
			b, _ := json.Marshal(urls)
			if err := ev.Set("livenessImages", string(b)); err != nil {
				return err
			}
			if err := ev.SetValue("idScanSource", "SDK"); err != nil {
				return err
			}
		}
		c.Request.Body = ev.Body()
	}
	return nil
}

// scanFields are the fields of the final callback the retrieval repeats.
var scanFields = []string{"idType", "idCountry", "idSubtype", "verificationStatus", "rejectReason", "identityVerification", "idScanSource",
	"idFirstName", "idLastName", "idDob", "idExpiry", "idNumber", "idUsState", "personalNumber", "idAddress", "clientIp",
	"transactionDate", "idScanImage", "idScanImageBackside", "idScanImageFace", "livenessImages"}

// scanDocument is the document data of a finished scan.
func scanDocument(sc map[string]any) map[string]any {
	doc := map[string]any{"status": sc["verificationStatus"]}
	for k, f := range map[string]string{"idType": "type", "idCountry": "issuingCountry", "idSubtype": "idSubtype", "idFirstName": "firstName",
		"idLastName": "lastName", "idDob": "dob", "idExpiry": "expiry", "idNumber": "number", "idUsState": "usState",
		"personalNumber": "personalNumber", "idAddress": "address"} {
		if val, ok := sc[k]; ok {
			doc[f] = val
		}
	}
	return doc
}

// scanTransaction is the transaction data of a scan.
func (s *Server) scanTransaction(v *sandbox.Verification, rec *record, status string) map[string]any {
	tx := map[string]any{"status": status, "source": "WEB_UPLOAD", "date": jumioTime(v.CreatedAt), "merchantScanReference": v.ExternalRef}
	if rec.UserReference != "" {
		tx["customerId"] = rec.UserReference
	}
	if rec.ReportingCriteria != "" {
		tx["merchantReportingCriteria"] = rec.ReportingCriteria
	}
	if src, ok := rec.Scan["idScanSource"].(string); ok && status != "PENDING" {
		tx["source"] = src
	}
	if ip, ok := rec.Scan["clientIp"].(string); ok {
		tx["clientIp"] = ip
	}
	return tx
}

// scanVerification is the verification data of a finished scan.
func scanVerification(sc map[string]any) map[string]any {
	ver := map[string]any{}
	if rr, ok := sc["rejectReason"]; ok {
		ver["rejectReason"] = rr
	}
	if iv, ok := sc["identityVerification"].(map[string]any); ok {
		out := map[string]any{}
		for k, val := range iv {
			if b, ok := val.(bool); ok {
				val = strconv.FormatBool(b) // the retrieval sends "true"
			}
			out[k] = val
		}
		ver["identityVerification"] = out
	}
	if sc["verificationStatus"] == "APPROVED_VERIFIED" {
		ver["mrzCheck"] = "OK"
	}
	return ver
}

// netverifyScanData answers the Netverify retrieval of a scan's data,
// consistent with the callback it sent.
func (s *Server) netverifyScanData(w http.ResponseWriter, r *http.Request) error {
	v, rec, err := s.netverifyScanOf(r)
	if err != nil {
		return err
	}
	status := s.scanStatus(rec)
	out := map[string]any{"timestamp": jumioTime(s.cfg.Clock.Now()), "scanReference": v.ID, "transaction": s.scanTransaction(v, rec, status)}
	if status != "PENDING" {
		out["document"] = scanDocument(rec.Scan)
		out["verification"] = scanVerification(rec.Scan)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// stamped adds the timestamp and scanReference of a part retrieval.
func (s *Server) stamped(v *sandbox.Verification, m map[string]any) map[string]any {
	m["timestamp"], m["scanReference"] = jumioTime(s.cfg.Clock.Now()), v.ID
	return m
}

// netverifyScanDocument answers the document data only.
func (s *Server) netverifyScanDocument(w http.ResponseWriter, r *http.Request) error {
	v, rec, err := s.netverifyScanOf(r)
	if err != nil {
		return err
	}
	if s.scanStatus(rec) == "PENDING" {
		return errorf(http.StatusNotFound, "scan %s has no document data yet (status PENDING)", v.ID)
	}
	writeJSON(w, http.StatusOK, s.stamped(v, scanDocument(rec.Scan)))
	return nil
}

// netverifyScanTransaction answers the transaction data only.
func (s *Server) netverifyScanTransaction(w http.ResponseWriter, r *http.Request) error {
	v, rec, err := s.netverifyScanOf(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.stamped(v, s.scanTransaction(v, rec, s.scanStatus(rec))))
	return nil
}

// netverifyScanVerification answers the verification data only.
func (s *Server) netverifyScanVerification(w http.ResponseWriter, r *http.Request) error {
	v, rec, err := s.netverifyScanOf(r)
	if err != nil {
		return err
	}
	ver := map[string]any{}
	if s.scanStatus(rec) != "PENDING" {
		ver = scanVerification(rec.Scan)
	}
	writeJSON(w, http.StatusOK, s.stamped(v, ver))
	return nil
}

// scanLiveness returns the liveness image URLs of a scan's callback.
func scanLiveness(sc map[string]any) []any {
	l, _ := sc["livenessImages"].([]any)
	return l
}

// netverifyScanImages answers the list of a scan's images: those its
// callback named, and its liveness images.
func (s *Server) netverifyScanImages(w http.ResponseWriter, r *http.Request) error {
	v, rec, err := s.netverifyScanOf(r)
	if err != nil {
		return err
	}
	images := []any{}
	if s.scanStatus(rec) != "PENDING" {
		for _, f := range netverifyImageFields {
			if _, ok := rec.Scan[f[0]]; ok {
				images = append(images, map[string]any{"classifier": f[1], "href": s.netverifyImagesBase(v.ID) + f[1]})
			}
		}
	}
	out := s.stamped(v, map[string]any{"images": images})
	if l := scanLiveness(rec.Scan); len(l) > 0 && s.scanStatus(rec) != "PENDING" {
		out["livenessImages"] = l
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// netverifyScanImage answers one image of a scan (front, back, face).
func (s *Server) netverifyScanImage(w http.ResponseWriter, r *http.Request) error {
	v, rec, err := s.netverifyScanOf(r)
	if err != nil {
		return err
	}
	classifier := mux.Vars(r)["classifier"]
	for _, f := range netverifyImageFields {
		if f[1] == classifier && s.scanStatus(rec) != "PENDING" {
			if _, ok := rec.Scan[f[0]]; ok {
				return writeImage(w, r, drawnImage(v.ID+"/"+classifier, classifier == "face"))
			}
		}
	}
	return errorf(http.StatusNotFound, "scan %s has no %s image", v.ID, classifier)
}

// netverifyLivenessImage answers one liveness image of a scan.
func (s *Server) netverifyLivenessImage(w http.ResponseWriter, r *http.Request) error {
	v, rec, err := s.netverifyScanOf(r)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(mux.Vars(r)["livenessNumber"])
	if l := scanLiveness(rec.Scan); err != nil || n < 1 || n > len(l) || s.scanStatus(rec) == "PENDING" {
		return errorf(http.StatusNotFound, "scan %s has no liveness image %s", v.ID, mux.Vars(r)["livenessNumber"])
	}
	return writeImage(w, r, drawnImage(fmt.Sprintf("%s/liveness/%d", v.ID, n), true))
}
