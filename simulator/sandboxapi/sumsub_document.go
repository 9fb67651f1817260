package sandboxapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/kycsim/kycsim/simulator/sandbox"
)

// Sumsub documents: POST /resources/applicants/{id}/info/idDoc keeps the
// metadata and the file (at most sandbox.MaxDocumentBytes, at most
// sandbox.MaxDocuments an applicant), GET /resources/inspections/{id}/
// resources/{imageId} answers the bytes, and requiredIdDocsStatus counts
// them toward the level's steps.

// idDocTypes are the document types the upload accepts.
var idDocTypes = []string{
	"AGREEMENT", "BANK_CARD", "BANK_STATEMENT", "CONTRACT", "COVID_VACCINATION_FORM", "DRIVERS", "DRIVERS_TRANSLATION",
	"EMPLOYMENT_CERTIFICATE", "ID_CARD", "ID_DOC_PHOTO", "INCOME_SOURCE", "INVESTOR_DOC", "OTHER", "PASSPORT",
	"PAYMENT_METHOD", "PROFILE_IMAGE", "RESIDENCE_PERMIT", "SELFIE", "UTILITY_BILL", "UTILITY_BILL2",
	"VEHICLE_REGISTRATION_CERTIFICATE", "VIDEO_SELFIE",
}

// imageTypes are the content types a stored file may have (what
// http.DetectContentType finds, or the HEIC a phone sends).
var imageTypes = []string{"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "application/pdf"}

// alpha3 matches an ISO 3166-1 alpha-3 country code.
var alpha3 = regexp.MustCompile(`^[A-Z]{3}$`)

// maxMetadataBytes bounds the metadata form field.
const maxMetadataBytes = 64 << 10

// isMultipart reports whether a request's body is multipart/form-data.
func isMultipart(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// idDocMetadata is what the upload needs of its metadata; the rest is
// kept as sent.
type idDocMetadata struct {
	IDDocType    string `json:"idDocType"`
	IDDocSubType string `json:"idDocSubType"`
	Country      string `json:"country"`
}

// upload is a parsed document upload.
type upload struct {
	metadata    []byte
	meta        idDocMetadata
	content     []byte
	hasContent  bool
	fileName    string
	contentType string
}

// Sumsub's upload errors (docs.sumsub.com/reference/error-codes): the
// errorCode, errorName and HTTP status of each.
var (
	errTooManyDocuments  = uploadError{1001, "too-many-documents", http.StatusBadRequest}
	errFileTooBig        = uploadError{1002, "file-too-big", http.StatusBadRequest}
	errEmptyFile         = uploadError{1003, "empty-file", http.StatusBadRequest}
	errCorruptedFile     = uploadError{1004, "corrupted-file", http.StatusBadRequest}
	errUnsupportedFormat = uploadError{1005, "unsupported-file-format", http.StatusBadRequest}
	errCheckInProgress   = uploadError{1006, "no-upload-verification-in-progress", http.StatusConflict}
)

// uploadError is one of Sumsub's upload errors.
type uploadError struct {
	code   int
	name   string
	status int
}

// err is the error with a description.
func (u uploadError) err(format string, args ...any) error {
	return &apiError{status: u.status, sumsubCode: u.code, sumsubName: u.name, msg: fmt.Sprintf(format, args...)}
}

// parseUpload reads the multipart body of an upload, naming the form
// field at fault.
func parseUpload(r *http.Request, applicantID string) (*upload, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, &apiError{status: http.StatusUnsupportedMediaType, msg: "HTTP 415 Unsupported Media Type: the upload is multipart/form-data with a boundary (form fields metadata and content)"}
	}
	mr := multipart.NewReader(bytes.NewReader(bodyOf(r)), params["boundary"])
	up := &upload{}
	seenMetadata := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "multipart body: %v", err)
		}
		switch part.FormName() {
		case "metadata":
			b, err := io.ReadAll(io.LimitReader(part, maxMetadataBytes+1))
			if err != nil {
				return nil, errorf(http.StatusBadRequest, "form field metadata: %v", err)
			}
			if len(b) > maxMetadataBytes {
				return nil, errorf(http.StatusBadRequest, "form field metadata: more than %d bytes", maxMetadataBytes)
			}
			up.metadata, seenMetadata = b, true
		case "content":
			b, err := io.ReadAll(io.LimitReader(part, sandbox.MaxDocumentBytes+1))
			if err != nil {
				return nil, errorf(http.StatusBadRequest, "form field content: %v", err)
			}
			if len(b) > sandbox.MaxDocumentBytes {
				return nil, errFileTooBig.err("form field content: the file of applicant %s is larger than the %d bytes the sandbox keeps", applicantID, sandbox.MaxDocumentBytes)
			}
			up.content, up.hasContent = b, true
			up.fileName, up.contentType = part.FileName(), part.Header.Get("Content-Type")
		}
		part.Close()
	}
	if !seenMetadata {
		return nil, errorf(http.StatusBadRequest, "form field metadata: required (JSON with idDocType and country)")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(up.metadata, &obj); err != nil || obj == nil {
		return nil, errorf(http.StatusBadRequest, "form field metadata: not a JSON object: %s", strings.TrimSpace(string(up.metadata[:min(len(up.metadata), 80)])))
	}
	if err := json.Unmarshal(up.metadata, &up.meta); err != nil {
		return nil, errorf(http.StatusBadRequest, "form field metadata: %v", err)
	}
	m := up.meta
	switch {
	case m.IDDocType == "":
		return nil, errorf(http.StatusBadRequest, "form field metadata: /idDocType is required")
	case !slices.Contains(idDocTypes, m.IDDocType):
		return nil, errorf(http.StatusBadRequest, "form field metadata: /idDocType %q is not a document type (%s)", m.IDDocType, strings.Join(idDocTypes, ", "))
	case m.Country == "":
		return nil, errorf(http.StatusBadRequest, "form field metadata: /country is required (ISO 3166-1 alpha-3, e.g. DEU)")
	case !alpha3.MatchString(m.Country):
		return nil, errorf(http.StatusBadRequest, "form field metadata: /country %q is not an ISO 3166-1 alpha-3 code (e.g. DEU)", m.Country)
	case m.IDDocSubType != "" && m.IDDocSubType != "FRONT_SIDE" && m.IDDocSubType != "BACK_SIDE":
		return nil, errorf(http.StatusBadRequest, "form field metadata: /idDocSubType %q: want FRONT_SIDE or BACK_SIDE", m.IDDocSubType)
	}
	if up.hasContent {
		if len(up.content) == 0 {
			return nil, errEmptyFile.err("form field content: the file of applicant %s is empty", applicantID)
		}
		ct := contentTypeOf(up.content, up.contentType)
		if ct == "" {
			declared, _, _ := mime.ParseMediaType(up.contentType)
			if slices.Contains(imageTypes, declared) || declared == "" || declared == "application/octet-stream" {
				// Sent as an image (or as nothing in particular), it is
				// none: Sumsub's corrupted file.
				return nil, errCorruptedFile.err("Corrupted file for applicant %s and type imageUpload (form field content: sent as %q, its bytes are %s)",
					applicantID, up.contentType, http.DetectContentType(up.content))
			}
			return nil, errUnsupportedFormat.err("form field content: %s of applicant %s is not a supported format (%s)", up.contentType, applicantID, strings.Join(imageTypes, ", "))
		}
		up.contentType = ct
	}
	return up, nil
}

// contentTypeOf is the type of a file, from its bytes (a declared
// image/heic is taken when the bytes are an HEIF container); "" when it
// is not an image or a PDF.
func contentTypeOf(b []byte, declared string) string {
	sniffed := http.DetectContentType(b)
	if slices.Contains(imageTypes, sniffed) {
		return sniffed
	}
	if strings.HasPrefix(strings.ToLower(declared), "image/heic") && len(b) > 12 && string(b[4:8]) == "ftyp" {
		return "image/heic"
	}
	return ""
}

// sumsubAddIdDoc keeps an uploaded document. The answer is its metadata
// (with "errors", the document warnings, when X-Return-Doc-Warnings is
// true) and, for a file, X-Image-Id.
func (s *Server) sumsubAddIdDoc(w http.ResponseWriter, r *http.Request) error {
	v, rec, err := s.applicantOf(r)
	if err != nil {
		return err
	}
	up, err := parseUpload(r, v.ID)
	if err != nil {
		return err
	}
	switch status, _ := rec.statusAt(s.cfg.Clock.Now(), "init"); status {
	case "pending", "queued", "prechecked", "onHold":
		return errCheckInProgress.err("Applicant %s is being checked (%s): adding documents is not allowed until the review completes or the applicant is reset", v.ID, status)
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	d := &sandbox.Document{VerificationID: v.ID, Metadata: up.metadata, FileName: up.fileName, ContentType: up.contentType,
		Content: up.content, CreatedAt: s.cfg.Clock.Now()}
	if err := s.cfg.Store.AddDocument(ctx, d); err != nil {
		if sandbox.ErrorCode(err) == sandbox.EINVALID {
			return errTooManyDocuments.err("Applicant %s has the %d documents the sandbox keeps: %s", v.ID, sandbox.MaxDocuments, sandbox.ErrorMessage(err))
		}
		return err
	}
	var out map[string]any
	if err := json.Unmarshal(up.metadata, &out); err != nil {
		return err
	}
	if strings.EqualFold(r.Header.Get("X-Return-Doc-Warnings"), "true") {
		out["errors"] = []string{}
	}
	if up.hasContent {
		w.Header().Set("X-Image-Id", strconv.FormatInt(d.ID, 10))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// sumsubImage answers an uploaded file's bytes.
func (s *Server) sumsubImage(w http.ResponseWriter, r *http.Request) error {
	vars := mux.Vars(r)
	notFound := &apiError{status: http.StatusNotFound, msg: "Image " + vars["imageId"] + " of inspection " + vars["inspectionId"] + " not found"}
	id, err := strconv.ParseInt(vars["imageId"], 10, 64)
	if err != nil || id <= 0 {
		return notFound
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	d, err := s.cfg.Store.Document(ctx, id)
	if sandbox.ErrorCode(err) == sandbox.ENOTFOUND {
		return notFound
	}
	if err != nil {
		return err
	}
	_, rec, err := s.lookup(ctx, d.VerificationID, "sumsub", func() error { return notFound })
	if err != nil {
		return err
	}
	if rec.InspectionID != vars["inspectionId"] || len(d.Content) == 0 {
		return notFound
	}
	w.Header().Set("Content-Type", d.ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(d.Content)))
	w.WriteHeader(http.StatusOK)
	w.Write(d.Content)
	return nil
}

// sumsubRequiredIdDocsStatus answers each step of the applicant's level:
// null while nothing counts toward it, else what was uploaded for it,
// and its review result once the applicant is reviewed.
func (s *Server) sumsubRequiredIdDocsStatus(w http.ResponseWriter, r *http.Request) error {
	v, rec, err := s.applicantOf(r)
	if err != nil {
		return err
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	docs, err := s.cfg.Store.Documents(ctx, v.ID)
	if err != nil {
		return err
	}
	status, _ := rec.statusAt(s.cfg.Clock.Now(), "init")
	out := map[string]any{}
	for _, set := range defaultDocSets {
		var step map[string]any
		for _, d := range docs {
			var m idDocMetadata
			if d.Inactive || json.Unmarshal(d.Metadata, &m) != nil || !slices.Contains(set.Types, m.IDDocType) {
				continue
			}
			if step == nil {
				step = map[string]any{"idDocType": m.IDDocType, "country": m.Country, "imageIds": []int64{},
					"imageReviewResults": map[string]any{}, "forbidden": false, "partialCompletion": nil, "stepStatuses": nil, "imageStatuses": []any{}}
			}
			if len(d.Content) == 0 && d.ContentType == "" {
				continue // metadata only: no image
			}
			step["imageIds"] = append(step["imageIds"].([]int64), d.ID)
			if status == "completed" && rec.ReviewAnswer != "" {
				step["imageReviewResults"].(map[string]any)[strconv.FormatInt(d.ID, 10)] = map[string]any{"reviewAnswer": rec.ReviewAnswer}
			}
		}
		if step != nil && status == "completed" && rec.ReviewAnswer != "" {
			rr := map[string]any{"reviewAnswer": rec.ReviewAnswer}
			if rec.ReviewAnswer == "RED" {
				rr["rejectLabels"], rr["reviewRejectType"] = rec.RejectLabels, rec.RejectType
			}
			step["reviewResult"] = rr
		}
		if step == nil {
			out[set.Type] = nil
		} else {
			out[set.Type] = step
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
