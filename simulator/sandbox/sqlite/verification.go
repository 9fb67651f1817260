package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"modernc.org/sqlite"

	"github.com/kycsim/kycsim/simulator/sandbox"
)

const verificationColumns = `id, product, account_id, external_ref, status, state, callback_url,
	created_at, updated_at, expires_at, version`

// CreateVerification implements sandbox.Store.
func (db *DB) CreateVerification(ctx context.Context, v *sandbox.Verification, enqueue ...*sandbox.Delivery) error {
	if err := v.Validate(); err != nil {
		return err
	}
	if err := sandbox.ValidateDeliveries(enqueue); err != nil {
		return err
	}
	now := db.now()
	created, updated := v.CreatedAt, v.UpdatedAt
	if created.IsZero() {
		created = now
	}
	if updated.IsZero() {
		updated = created
	}
	var ids []int64
	err := db.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, qInsertVerification,
			v.ID, v.Product, v.AccountID, v.ExternalRef, v.Status, stateJSON(v.State), v.CallbackURL,
			nanos(created), nanos(updated), nullNanos(v.ExpiresAt))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return sandbox.Errorf(sandbox.ECONFLICT, "verification %s exists", v.ID)
		}
		ids, err = db.insertDeliveries(ctx, tx, now, v.ID, enqueue)
		return err
	})
	if err = externalRefTaken(err, v); sandbox.ErrorCode(err) == sandbox.ETAKEN {
		return err
	}
	if err != nil {
		return fmt.Errorf("create verification %s: %w", v.ID, err)
	}
	v.CreatedAt, v.UpdatedAt, v.Version = created.UTC(), updated.UTC(), 1
	sandbox.Settle(enqueue, ids, v.ID, now)
	return nil
}

// Verification implements sandbox.Store.
func (db *DB) Verification(ctx context.Context, id string) (*sandbox.Verification, error) {
	row := db.queryRow(ctx, nil, `SELECT `+verificationColumns+` FROM verifications WHERE id = ?`, id)
	v, err := scanVerification(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sandbox.Errorf(sandbox.ENOTFOUND, "verification %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read verification %s: %w", id, err)
	}
	return v, nil
}

// Verifications implements sandbox.Store.
func (db *DB) Verifications(ctx context.Context, f sandbox.VerificationFilter) ([]*sandbox.Verification, error) {
	var where []string
	var args []any
	if f.Product != "" {
		where, args = append(where, "product = ?"), append(args, f.Product)
	}
	if f.AccountID != "" {
		where, args = append(where, "account_id = ?"), append(args, f.AccountID)
	}
	if f.ExternalRef != "" {
		where, args = append(where, "external_ref = ?"), append(args, f.ExternalRef)
	}
	if !f.ExpiresBy.IsZero() {
		where, args = append(where, "expires_at IS NOT NULL AND expires_at <= ?"), append(args, f.ExpiresBy.UnixNano())
	}
	q := `SELECT ` + verificationColumns + ` FROM verifications`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY created_at, id LIMIT ? OFFSET ?`
	args = append(args, sandbox.ClampLimit(f.Limit), max(f.Offset, 0))
	rows, err := db.reader().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find verifications: %w", err)
	}
	defer rows.Close()
	var out []*sandbox.Verification
	for rows.Next() {
		v, err := scanVerification(rows)
		if err != nil {
			return nil, fmt.Errorf("find verifications: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find verifications: %w", err)
	}
	return out, nil
}

// UpdateVerification implements sandbox.Store.
func (db *DB) UpdateVerification(ctx context.Context, v *sandbox.Verification, enqueue ...*sandbox.Delivery) error {
	if err := v.Validate(); err != nil {
		return err
	}
	if err := sandbox.ValidateDeliveries(enqueue); err != nil {
		return err
	}
	now := db.now()
	updated := v.UpdatedAt
	if updated.IsZero() {
		updated = now
	}
	var ids []int64
	err := db.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, qUpdateVerification,
			v.Product, v.AccountID, v.ExternalRef, v.Status, stateJSON(v.State), v.CallbackURL,
			nanos(updated), nullNanos(v.ExpiresAt), v.ID, v.Version)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			var version int64
			err := db.queryRow(ctx, tx, qVerificationVersion, v.ID).Scan(&version)
			if errors.Is(err, sql.ErrNoRows) {
				return sandbox.Errorf(sandbox.ENOTFOUND, "verification %s not found", v.ID)
			}
			if err != nil {
				return err
			}
			return sandbox.Errorf(sandbox.ECONFLICT, "verification %s: version %d was read, %d is stored", v.ID, v.Version, version)
		}
		ids, err = db.insertDeliveries(ctx, tx, now, v.ID, enqueue)
		return err
	})
	if err = externalRefTaken(err, v); sandbox.ErrorCode(err) == sandbox.ETAKEN {
		return err
	}
	if err != nil {
		return fmt.Errorf("update verification %s: %w", v.ID, err)
	}
	v.UpdatedAt = updated.UTC()
	v.Version++
	sandbox.Settle(enqueue, ids, v.ID, now)
	return nil
}

// sqliteConstraintUnique is SQLite's extended result code for a UNIQUE
// constraint failure (SQLITE_CONSTRAINT_UNIQUE).
const sqliteConstraintUnique = 2067

// externalRefTaken turns a violation of the unique index that keeps one
// Sumsub applicant per externalUserId (migration 0005) into ETAKEN
// naming the reference; other errors pass through.
func externalRefTaken(err error, v *sandbox.Verification) error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code() == sqliteConstraintUnique && strings.Contains(se.Error(), "verifications.external_ref") {
		return sandbox.Errorf(sandbox.ETAKEN, "verification %s: %s external reference %q is taken", v.ID, v.Product, v.ExternalRef)
	}
	return err
}

func scanVerification(s scanner) (*sandbox.Verification, error) {
	var v sandbox.Verification
	var state []byte
	var created, updated, expires sql.NullInt64
	if err := s.Scan(&v.ID, &v.Product, &v.AccountID, &v.ExternalRef, &v.Status, &state, &v.CallbackURL,
		&created, &updated, &expires, &v.Version); err != nil {
		return nil, err
	}
	v.State = state
	v.CreatedAt, v.UpdatedAt, v.ExpiresAt = fromNanos(created), fromNanos(updated), fromNanos(expires)
	return &v, nil
}

func stateJSON(b []byte) []byte {
	if len(b) == 0 {
		return []byte("{}")
	}
	return b
}
