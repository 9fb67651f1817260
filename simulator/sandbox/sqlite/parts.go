package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kycsim/kycsim/simulator/sandbox"
)

var qPutPart = writeQuery(`INSERT INTO parts (verification_id, credential_id, classifier, content_type, data, created_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (verification_id, credential_id, classifier)
		DO UPDATE SET content_type = excluded.content_type, data = excluded.data, created_at = excluded.created_at`)

// PutPart implements sandbox.PartStore.
func (db *DB) PutPart(ctx context.Context, p *sandbox.Part) error {
	if err := p.Validate(); err != nil {
		return err
	}
	now := db.now()
	err := db.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var one int
		err := db.queryRow(ctx, tx, qVerificationExists, p.VerificationID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return sandbox.Errorf(sandbox.ENOTFOUND, "verification %s not found", p.VerificationID)
		}
		if err != nil {
			return err
		}
		_, err = db.exec(ctx, tx, qPutPart, p.VerificationID, p.CredentialID, p.Classifier, p.ContentType, p.Data, nanos(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("put part %s/%s of %s: %w", p.CredentialID, p.Classifier, p.VerificationID, err)
	}
	p.CreatedAt = now.UTC()
	return nil
}

// Part implements sandbox.PartStore.
func (db *DB) Part(ctx context.Context, verificationID, credentialID, classifier string) (*sandbox.Part, error) {
	p := &sandbox.Part{VerificationID: verificationID, CredentialID: credentialID, Classifier: classifier}
	var created sql.NullInt64
	err := db.queryRow(ctx, nil, `SELECT content_type, data, created_at FROM parts
		WHERE verification_id = ? AND credential_id = ? AND classifier = ?`, verificationID, credentialID, classifier).
		Scan(&p.ContentType, &p.Data, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sandbox.Errorf(sandbox.ENOTFOUND, "no part %s/%s of verification %s", credentialID, classifier, verificationID)
	}
	if err != nil {
		return nil, fmt.Errorf("read part %s/%s of %s: %w", credentialID, classifier, verificationID, err)
	}
	p.CreatedAt = fromNanos(created)
	return p, nil
}
