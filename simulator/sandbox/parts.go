package sandbox

import (
	"context"
	"time"
)

// Part is one image of a credential that a customer uploaded through
// Jumio's API channel (server-side capture): the front or back of an ID,
// the face of a selfie. The retrieval API answers it back byte for byte.
type Part struct {
	// VerificationID is the workflow execution the part belongs to.
	VerificationID string
	// CredentialID is the credential's id in the workflow execution.
	CredentialID string
	// Classifier is the part: FRONT, BACK, FACE (upper case).
	Classifier string
	// ContentType is the image's media type (image/jpeg, image/png).
	ContentType string
	// Data is the image.
	Data []byte
	// CreatedAt is set by the store (its own time) at each write.
	CreatedAt time.Time
}

// MaxPartBytes bounds a part's Data: Jumio takes images of up to 10 MB.
const MaxPartBytes = 10 << 20

// Validate reports whether the part can be written.
func (p *Part) Validate() error {
	switch {
	case p.VerificationID == "" || p.CredentialID == "" || p.Classifier == "":
		return Errorf(EINVALID, "part: verification, credential and classifier are required")
	case p.ContentType == "":
		return Errorf(EINVALID, "part %s/%s: no content type", p.CredentialID, p.Classifier)
	case len(p.Data) == 0:
		return Errorf(EINVALID, "part %s/%s: no data", p.CredentialID, p.Classifier)
	case len(p.Data) > MaxPartBytes:
		return Errorf(EINVALID, "part %s/%s: %d bytes; at most %d", p.CredentialID, p.Classifier, len(p.Data), MaxPartBytes)
	}
	return nil
}

// PartStore keeps the parts uploaded through the API channel. It is part
// of Store; every implementation shows the behaviours of sandboxtest.
type PartStore interface {
	// PutPart writes a part of an existing verification (ENOTFOUND when
	// there is none), replacing the part with the same credential and
	// classifier, and sets its CreatedAt.
	PutPart(ctx context.Context, p *Part) error
	// Part returns the part of a verification's credential with the
	// classifier (ENOTFOUND when none was uploaded).
	Part(ctx context.Context, verificationID, credentialID, classifier string) (*Part, error)
}
