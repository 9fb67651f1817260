package sandbox

import (
	"context"
	"time"
)

// MaxDocumentBytes bounds the content of one stored document (an
// uploaded image); MaxDocuments bounds the documents one verification
// keeps. A Store refuses more with EINVALID.
const (
	MaxDocumentBytes = 5 << 20
	MaxDocuments     = 50
)

// Document is a file a customer uploaded for a verification (a Sumsub
// applicant's ID document image), as the vendor keeps it: its metadata
// and its bytes.
type Document struct {
	// ID is set by the store, increasing in the order of adding (Sumsub's
	// numeric imageId).
	ID int64
	// VerificationID is the verification the document belongs to.
	VerificationID string
	// Metadata is the vendor's metadata of the document as one JSON
	// object (Sumsub: idDocType, idDocSubType, country, ...).
	Metadata []byte
	// FileName and ContentType are the upload's, as sent.
	FileName, ContentType string
	// Content is the file (at most MaxDocumentBytes); empty for a
	// document of metadata only.
	Content []byte
	// Inactive is set when the verification was reset: the document is
	// kept but no longer counts.
	Inactive bool
	// CreatedAt is a sandbox-clock time, written as given (the store's
	// own time when zero).
	CreatedAt time.Time
}

// Validate reports whether the document can be added.
func (d *Document) Validate() error {
	if d.VerificationID == "" {
		return Errorf(EINVALID, "document: no verification")
	}
	if len(d.Content) > MaxDocumentBytes {
		return Errorf(EINVALID, "document of verification %s: %d bytes; at most %d are kept", d.VerificationID, len(d.Content), MaxDocumentBytes)
	}
	return nil
}

// DocumentStore keeps the documents of verifications. It is part of
// Store.
type DocumentStore interface {
	// AddDocument writes a new document of an existing verification
	// (ENOTFOUND when there is none; EINVALID when the verification
	// already has MaxDocuments) and sets its ID and CreatedAt.
	AddDocument(ctx context.Context, d *Document) error
	// Document returns the document with the id, its Content included.
	Document(ctx context.Context, id int64) (*Document, error)
	// Documents returns a verification's documents, oldest first,
	// without their Content (the metadata the vendor's status answers
	// need).
	Documents(ctx context.Context, verificationID string) ([]*Document, error)
	// DeactivateDocuments marks every document of a verification
	// inactive and returns how many it changed.
	DeactivateDocuments(ctx context.Context, verificationID string) (int, error)
}
