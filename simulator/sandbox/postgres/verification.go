package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/kycsim/kycsim/simulator/sandbox"
)

const verificationColumns = `id, product, account_id, external_ref, status, state, callback_url,
	created_at, updated_at, expires_at, version`

// CreateVerification implements sandbox.Store: the verification and its
// deliveries in one batch, which PostgreSQL runs as one transaction.
func (db *DB) CreateVerification(ctx context.Context, v *sandbox.Verification, enqueue ...*sandbox.Delivery) error {
	if err := v.Validate(); err != nil {
		return err
	}
	if err := sandbox.ValidateDeliveries(enqueue); err != nil {
		return err
	}
	if err := checkOwner(v.ID, enqueue); err != nil {
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
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO verifications (`+verificationColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1)`,
		v.ID, v.Product, v.AccountID, v.ExternalRef, v.Status, stateJSON(v.State), v.CallbackURL,
		nanos(created), nanos(updated), nullNanos(v.ExpiresAt))
	if err := queueDeliveries(b, now, v.ID, enqueue); err != nil {
		return err
	}
	ids, err := db.runInsertBatch(ctx, b, 1, len(enqueue))
	if err = externalRefTaken(err, v); sandbox.ErrorCode(err) == sandbox.ETAKEN {
		return err
	}
	if pgCode(err) == codeUniqueViolation {
		return sandbox.Errorf(sandbox.ECONFLICT, "verification %s exists", v.ID)
	}
	if err != nil {
		return fmt.Errorf("create verification %s: %w", v.ID, err)
	}
	v.CreatedAt, v.UpdatedAt, v.Version = created.UTC(), updated.UTC(), 1
	sandbox.Settle(enqueue, ids, v.ID, now)
	return nil
}

// runInsertBatch sends a batch of `lead` statements without rows and then
// n delivery inserts, and returns the deliveries' ids.
func (db *DB) runInsertBatch(ctx context.Context, b *pgx.Batch, lead, n int) ([]int64, error) {
	br := db.q().SendBatch(ctx, b)
	ids := make([]int64, n)
	var err error
	for range lead {
		if _, err = br.Exec(); err != nil {
			break
		}
	}
	for i := 0; err == nil && i < n; i++ {
		err = br.QueryRow().Scan(&ids[i])
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return ids, err
}

// Verification implements sandbox.Store.
func (db *DB) Verification(ctx context.Context, id string) (*sandbox.Verification, error) {
	v, err := scanVerification(db.q().QueryRow(ctx, `SELECT `+verificationColumns+` FROM verifications WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
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
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.Product != "" {
		add("product = ?", f.Product)
	}
	if f.AccountID != "" {
		add("account_id = ?", f.AccountID)
	}
	if f.ExternalRef != "" {
		add("external_ref = ?", f.ExternalRef)
	}
	if !f.ExpiresBy.IsZero() {
		add("expires_at IS NOT NULL AND expires_at <= ?", f.ExpiresBy.UnixNano())
	}
	q := `SELECT ` + verificationColumns + ` FROM verifications`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, sandbox.ClampLimit(f.Limit), max(f.Offset, 0))
	q += fmt.Sprintf(` ORDER BY created_at, id LIMIT $%d OFFSET $%d`, len(args)-1, len(args))
	rows, err := db.q().Query(ctx, q, args...)
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
	if err := checkOwner(v.ID, enqueue); err != nil {
		return err
	}
	now := db.now()
	updated := v.UpdatedAt
	if updated.IsZero() {
		updated = now
	}
	var ids []int64
	err := pgx.BeginFunc(ctx, db.q(), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE verifications SET
				product = $1, account_id = $2, external_ref = $3, status = $4, state = $5, callback_url = $6,
				updated_at = $7, expires_at = $8, version = version + 1
			WHERE id = $9 AND version = $10`,
			v.Product, v.AccountID, v.ExternalRef, v.Status, stateJSON(v.State), v.CallbackURL,
			nanos(updated), nullNanos(v.ExpiresAt), v.ID, v.Version)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var version int64
			err := tx.QueryRow(ctx, `SELECT version FROM verifications WHERE id = $1`, v.ID).Scan(&version)
			if errors.Is(err, pgx.ErrNoRows) {
				return sandbox.Errorf(sandbox.ENOTFOUND, "verification %s not found", v.ID)
			}
			if err != nil {
				return err
			}
			return sandbox.Errorf(sandbox.ECONFLICT, "verification %s: version %d was read, %d is stored", v.ID, v.Version, version)
		}
		if len(enqueue) == 0 {
			return nil
		}
		b := &pgx.Batch{}
		if err := queueDeliveries(b, now, v.ID, enqueue); err != nil {
			return err
		}
		br := tx.SendBatch(ctx, b)
		ids = make([]int64, len(enqueue))
		for i := range ids {
			if err := br.QueryRow().Scan(&ids[i]); err != nil {
				br.Close()
				return err
			}
		}
		return br.Close()
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

// checkOwner refuses deliveries of another verification than the one
// being written.
func checkOwner(id string, ds []*sandbox.Delivery) error {
	for _, d := range ds {
		if d.VerificationID != "" && d.VerificationID != id {
			return sandbox.Errorf(sandbox.EINVALID, "delivery %s %s belongs to verification %s, not %s", d.Product, d.Message, d.VerificationID, id)
		}
	}
	return nil
}

func scanVerification(s pgx.Row) (*sandbox.Verification, error) {
	var v sandbox.Verification
	var state []byte
	var created, updated, expires *int64
	if err := s.Scan(&v.ID, &v.Product, &v.AccountID, &v.ExternalRef, &v.Status, &state, &v.CallbackURL,
		&created, &updated, &expires, &v.Version); err != nil {
		return nil, err
	}
	v.State = state
	v.CreatedAt, v.UpdatedAt, v.ExpiresAt = fromNanos(created), fromNanos(updated), fromNanos(expires)
	return &v, nil
}

func stateJSON(b []byte) string {
	if len(b) == 0 {
		return "{}"
	}
	return string(b)
}
