package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kycsim/kycsim/simulator/sandbox"
)

var (
	qDocumentCount  = writeQuery(`SELECT count(*) FROM documents WHERE verification_id = ?`)
	qInsertDocument = writeQuery(`INSERT INTO documents
			(verification_id, metadata, file_name, content_type, content, inactive, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`)
	qDeactivateDocuments = writeQuery(`UPDATE documents SET inactive = 1 WHERE verification_id = ? AND inactive = 0`)
)

// AddDocument implements sandbox.Store.
func (db *DB) AddDocument(ctx context.Context, d *sandbox.Document) error {
	if err := d.Validate(); err != nil {
		return err
	}
	created := d.CreatedAt
	if created.IsZero() {
		created = db.now()
	}
	metadata := d.Metadata
	if len(metadata) == 0 {
		metadata = []byte("{}")
	}
	content := d.Content
	if content == nil {
		content = []byte{}
	}
	var id int64
	err := db.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var one int
		err := db.queryRow(ctx, tx, qVerificationExists, d.VerificationID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return sandbox.Errorf(sandbox.ENOTFOUND, "verification %s not found", d.VerificationID)
		}
		if err != nil {
			return err
		}
		var n int
		if err := db.queryRow(ctx, tx, qDocumentCount, d.VerificationID).Scan(&n); err != nil {
			return err
		}
		if n >= sandbox.MaxDocuments {
			return sandbox.Errorf(sandbox.EINVALID, "verification %s has %d documents; at most %d are kept", d.VerificationID, n, sandbox.MaxDocuments)
		}
		res, err := db.exec(ctx, tx, qInsertDocument, d.VerificationID, metadata, d.FileName, d.ContentType, content, d.Inactive, nanos(created))
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return fmt.Errorf("add a document to verification %s: %w", d.VerificationID, err)
	}
	d.ID, d.CreatedAt = id, created.UTC()
	return nil
}

// Document implements sandbox.Store.
func (db *DB) Document(ctx context.Context, id int64) (*sandbox.Document, error) {
	row := db.queryRow(ctx, nil, `SELECT id, verification_id, metadata, file_name, content_type, content, inactive, created_at
		FROM documents WHERE id = ?`, id)
	d := &sandbox.Document{}
	var created sql.NullInt64
	err := row.Scan(&d.ID, &d.VerificationID, &d.Metadata, &d.FileName, &d.ContentType, &d.Content, &d.Inactive, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sandbox.Errorf(sandbox.ENOTFOUND, "document %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read document %d: %w", id, err)
	}
	d.CreatedAt = fromNanos(created)
	return d, nil
}

// Documents implements sandbox.Store.
func (db *DB) Documents(ctx context.Context, verificationID string) ([]*sandbox.Document, error) {
	rows, err := db.query(ctx, nil, `SELECT id, verification_id, metadata, file_name, content_type, inactive, created_at
		FROM documents WHERE verification_id = ? ORDER BY id`, verificationID)
	if err != nil {
		return nil, fmt.Errorf("documents of verification %s: %w", verificationID, err)
	}
	defer rows.Close()
	var out []*sandbox.Document
	for rows.Next() {
		d := &sandbox.Document{}
		var created sql.NullInt64
		if err := rows.Scan(&d.ID, &d.VerificationID, &d.Metadata, &d.FileName, &d.ContentType, &d.Inactive, &created); err != nil {
			return nil, fmt.Errorf("documents of verification %s: %w", verificationID, err)
		}
		d.CreatedAt = fromNanos(created)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("documents of verification %s: %w", verificationID, err)
	}
	return out, nil
}

// DeactivateDocuments implements sandbox.Store.
func (db *DB) DeactivateDocuments(ctx context.Context, verificationID string) (int, error) {
	var n int64
	err := db.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, qDeactivateDocuments, verificationID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("deactivate the documents of verification %s: %w", verificationID, err)
	}
	return int(n), nil
}
