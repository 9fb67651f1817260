package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/kycsim/kycsim/simulator/sandbox"
)

// AddDocument implements sandbox.Store. The verification's row is locked
// while its documents are counted, so that replicas adding at once keep
// to MaxDocuments.
func (db *DB) AddDocument(ctx context.Context, d *sandbox.Document) error {
	if err := d.Validate(); err != nil {
		return err
	}
	created := d.CreatedAt
	if created.IsZero() {
		created = db.now()
	}
	metadata := string(d.Metadata)
	if len(d.Metadata) == 0 {
		metadata = "{}"
	}
	content := d.Content
	if content == nil {
		content = []byte{}
	}
	var id int64
	err := pgx.BeginFunc(ctx, db.q(), func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM verifications WHERE id = $1 FOR UPDATE`, d.VerificationID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return sandbox.Errorf(sandbox.ENOTFOUND, "verification %s not found", d.VerificationID)
		}
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM documents WHERE verification_id = $1`, d.VerificationID).Scan(&n); err != nil {
			return err
		}
		if n >= sandbox.MaxDocuments {
			return sandbox.Errorf(sandbox.EINVALID, "verification %s has %d documents; at most %d are kept", d.VerificationID, n, sandbox.MaxDocuments)
		}
		return tx.QueryRow(ctx, `INSERT INTO documents
				(verification_id, metadata, file_name, content_type, content, inactive, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			d.VerificationID, metadata, d.FileName, d.ContentType, content, d.Inactive, nanos(created)).Scan(&id)
	})
	if err != nil {
		return fmt.Errorf("add a document to verification %s: %w", d.VerificationID, err)
	}
	d.ID, d.CreatedAt = id, created.UTC()
	return nil
}

// Document implements sandbox.Store.
func (db *DB) Document(ctx context.Context, id int64) (*sandbox.Document, error) {
	d := &sandbox.Document{}
	var created int64
	err := db.q().QueryRow(ctx, `SELECT id, verification_id, metadata, file_name, content_type, content, inactive, created_at
		FROM documents WHERE id = $1`, id).
		Scan(&d.ID, &d.VerificationID, &d.Metadata, &d.FileName, &d.ContentType, &d.Content, &d.Inactive, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, sandbox.Errorf(sandbox.ENOTFOUND, "document %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read document %d: %w", id, err)
	}
	d.CreatedAt = fromNanos(&created)
	return d, nil
}

// Documents implements sandbox.Store.
func (db *DB) Documents(ctx context.Context, verificationID string) ([]*sandbox.Document, error) {
	rows, err := db.q().Query(ctx, `SELECT id, verification_id, metadata, file_name, content_type, inactive, created_at
		FROM documents WHERE verification_id = $1 ORDER BY id`, verificationID)
	if err != nil {
		return nil, fmt.Errorf("documents of verification %s: %w", verificationID, err)
	}
	defer rows.Close()
	var out []*sandbox.Document
	for rows.Next() {
		d := &sandbox.Document{}
		var created int64
		if err := rows.Scan(&d.ID, &d.VerificationID, &d.Metadata, &d.FileName, &d.ContentType, &d.Inactive, &created); err != nil {
			return nil, fmt.Errorf("documents of verification %s: %w", verificationID, err)
		}
		d.CreatedAt = fromNanos(&created)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("documents of verification %s: %w", verificationID, err)
	}
	return out, nil
}

// DeactivateDocuments implements sandbox.Store.
func (db *DB) DeactivateDocuments(ctx context.Context, verificationID string) (int, error) {
	tag, err := db.q().Exec(ctx, `UPDATE documents SET inactive = true WHERE verification_id = $1 AND NOT inactive`, verificationID)
	if err != nil {
		return 0, fmt.Errorf("deactivate the documents of verification %s: %w", verificationID, err)
	}
	return int(tag.RowsAffected()), nil
}

// PutPart implements sandbox.PartStore.
func (db *DB) PutPart(ctx context.Context, p *sandbox.Part) error {
	if err := p.Validate(); err != nil {
		return err
	}
	now := db.now()
	_, err := db.q().Exec(ctx, `INSERT INTO parts (verification_id, credential_id, classifier, content_type, data, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (verification_id, credential_id, classifier)
		DO UPDATE SET content_type = excluded.content_type, data = excluded.data, created_at = excluded.created_at`,
		p.VerificationID, p.CredentialID, p.Classifier, p.ContentType, p.Data, nanos(now))
	if pgCode(err) == codeForeignKeyViolation {
		return sandbox.Errorf(sandbox.ENOTFOUND, "verification %s not found", p.VerificationID)
	}
	if err != nil {
		return fmt.Errorf("put part %s/%s of %s: %w", p.CredentialID, p.Classifier, p.VerificationID, err)
	}
	p.CreatedAt = now.UTC()
	return nil
}

// Part implements sandbox.PartStore.
func (db *DB) Part(ctx context.Context, verificationID, credentialID, classifier string) (*sandbox.Part, error) {
	p := &sandbox.Part{VerificationID: verificationID, CredentialID: credentialID, Classifier: classifier}
	var created int64
	err := db.q().QueryRow(ctx, `SELECT content_type, data, created_at FROM parts
		WHERE verification_id = $1 AND credential_id = $2 AND classifier = $3`, verificationID, credentialID, classifier).
		Scan(&p.ContentType, &p.Data, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, sandbox.Errorf(sandbox.ENOTFOUND, "no part %s/%s of verification %s", credentialID, classifier, verificationID)
	}
	if err != nil {
		return nil, fmt.Errorf("read part %s/%s of %s: %w", credentialID, classifier, verificationID, err)
	}
	p.CreatedAt = fromNanos(&created)
	return p, nil
}
