package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/sandbox"
)

const deliveryColumns = `id, coalesce(verification_id, ''), product, message, subject, url, header, body, source,
	policy_name, connect_timeout_ns, answer_timeout_ns, delays_ns,
	state, cycle, attempts, next_attempt_at, lease, leased_until, leased_by, created_at, updated_at`

const attemptColumns = `delivery_id, cycle, number, at, status, latency_ns, error, response, replica`

// Enqueue implements sandbox.Store.
func (db *DB) Enqueue(ctx context.Context, ds ...*sandbox.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	if err := sandbox.ValidateDeliveries(ds); err != nil {
		return err
	}
	now := db.now()
	var ids []int64
	err := db.tx(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		ids, err = db.insertDeliveries(ctx, tx, now, "", ds)
		return err
	})
	if err != nil {
		return fmt.Errorf("enqueue deliveries: %w", err)
	}
	sandbox.Settle(ds, ids, "", now)
	return nil
}

// insertDeliveries writes pending deliveries in tx; verificationID, when
// set, is the verification they belong to (being created or updated in
// tx).
func (db *DB) insertDeliveries(ctx context.Context, tx *sql.Tx, now time.Time, verificationID string, ds []*sandbox.Delivery) ([]int64, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	stmt, err := db.txStmt(ctx, tx, qInsertDelivery)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	ids := make([]int64, len(ds))
	for i, d := range ds {
		vid := d.VerificationID
		switch {
		case verificationID != "" && vid != "" && vid != verificationID:
			return nil, sandbox.Errorf(sandbox.EINVALID, "delivery %s %s belongs to verification %s, not %s", d.Product, d.Message, vid, verificationID)
		case verificationID != "":
			vid = verificationID
		case vid != "" && !known[vid]:
			var one int
			err := db.queryRow(ctx, tx, qVerificationExists, vid).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return nil, sandbox.Errorf(sandbox.ENOTFOUND, "delivery %s %s: verification %s not found", d.Product, d.Message, vid)
			}
			if err != nil {
				return nil, err
			}
			known[vid] = true
		}
		header, err := json.Marshal(d.Header)
		if err != nil {
			return nil, fmt.Errorf("delivery header: %w", err)
		}
		delays := make([]int64, len(d.Policy.Delays))
		for j, delay := range d.Policy.Delays {
			delays[j] = int64(delay)
		}
		delaysJSON, err := json.Marshal(delays)
		if err != nil {
			return nil, fmt.Errorf("delivery delays: %w", err)
		}
		source := ""
		if d.From.IsValid() {
			source = d.From.String()
		}
		body := d.Body
		if body == nil {
			body = []byte{}
		}
		res, err := stmt.ExecContext(ctx, sql.NullString{String: vid, Valid: vid != ""},
			d.Product, d.Message, d.Subject, d.URL, header, body, source,
			d.Policy.Name, int64(d.Policy.ConnectTimeout), int64(d.Policy.AnswerTimeout), string(delaysJSON),
			nanos(d.NextAttemptAt), now.UnixNano(), now.UnixNano())
		if err != nil {
			return nil, err
		}
		if ids[i], err = res.LastInsertId(); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// Claim implements sandbox.Store.
func (db *DB) Claim(ctx context.Context, c sandbox.Claim) ([]*sandbox.Delivery, error) {
	if c.Limit <= 0 {
		return nil, sandbox.Errorf(sandbox.EINVALID, "claim deliveries: limit %d", c.Limit)
	}
	if !c.Until.After(c.Now) {
		return nil, sandbox.Errorf(sandbox.EINVALID, "claim deliveries: the lease ends before it starts")
	}
	var out []*sandbox.Delivery
	err := db.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := db.query(ctx, tx, qClaim,
			c.Until.UnixNano(), c.Owner, nanos(c.Due), c.Now.UnixNano(), c.Limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	// RETURNING gives no order: earliest due first.
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.NextAttemptAt.Equal(b.NextAttemptAt) {
			return a.NextAttemptAt.Before(b.NextAttemptAt)
		}
		return a.ID < b.ID
	})
	return out, nil
}

// NextDue implements sandbox.Store.
func (db *DB) NextDue(ctx context.Context, now time.Time) (time.Time, bool, error) {
	var next int64
	err := db.queryRow(ctx, nil, `SELECT next_attempt_at FROM deliveries
		WHERE state = 'pending' AND (leased_until IS NULL OR leased_until <= ?)
		ORDER BY next_attempt_at LIMIT 1`, now.UnixNano()).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due delivery: %w", err)
	}
	return fromNanos(sql.NullInt64{Int64: next, Valid: true}), true, nil
}

// Record implements sandbox.Store.
func (db *DB) Record(ctx context.Context, o sandbox.Outcome) error {
	a := o.Attempt
	if a.DeliveryID <= 0 || a.Cycle <= 0 || a.Number <= 0 {
		return sandbox.Errorf(sandbox.EINVALID, "record attempt: delivery %d, cycle %d, number %d", a.DeliveryID, a.Cycle, a.Number)
	}
	var next sql.NullInt64
	switch o.State {
	case sandbox.Pending:
		next = sql.NullInt64{Int64: nanos(o.NextAttemptAt), Valid: true}
	case sandbox.Delivered, sandbox.Failed:
	default:
		return sandbox.Errorf(sandbox.EINVALID, "record attempt: state %q", o.State)
	}
	response := a.Response
	if len(response) > sandbox.ResponseSnippetBytes {
		response = response[:sandbox.ResponseSnippetBytes]
	}
	if response == nil {
		response = []byte{}
	}
	now := db.now()
	lost := false
	err := db.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, qRecord,
			a.Number, string(o.State), next, now.UnixNano(), a.DeliveryID, o.Lease, a.Cycle)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			var one int
			err := db.queryRow(ctx, tx, qDeliveryExists, a.DeliveryID).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return sandbox.Errorf(sandbox.ENOTFOUND, "delivery %d not found", a.DeliveryID)
			}
			if err != nil {
				return err
			}
			lost = true
		}
		_, err = db.exec(ctx, tx, qInsertAttempt,
			a.DeliveryID, a.Cycle, a.Number, nanos(a.Time), a.Status, int64(a.Latency), a.Err, response, a.Replica)
		return err
	})
	if err != nil {
		return fmt.Errorf("record attempt %d of delivery %d: %w", a.Number, a.DeliveryID, err)
	}
	if lost {
		return sandbox.Errorf(sandbox.ECONFLICT, "delivery %d: lease %d is no longer held; attempt %d recorded, the delivery left as it is", a.DeliveryID, o.Lease, a.Number)
	}
	return nil
}

// Delivery implements sandbox.Store.
func (db *DB) Delivery(ctx context.Context, id int64) (*sandbox.Delivery, error) {
	var d *sandbox.Delivery
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		d, err = db.deliveryWithHistory(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read delivery %d: %w", id, err)
	}
	return d, nil
}

func (db *DB) deliveryWithHistory(ctx context.Context, tx *sql.Tx, id int64) (*sandbox.Delivery, error) {
	d, err := scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sandbox.Errorf(sandbox.ENOTFOUND, "delivery %d not found", id)
	}
	if err != nil {
		return nil, err
	}
	if err := attachHistory(ctx, tx, []*sandbox.Delivery{d}); err != nil {
		return nil, err
	}
	return d, nil
}

// Deliveries implements sandbox.Store.
func (db *DB) Deliveries(ctx context.Context, f sandbox.DeliveryFilter) ([]*sandbox.Delivery, error) {
	where := []string{"id > ?"}
	args := []any{f.AfterID}
	if f.VerificationID != "" {
		where, args = append(where, "verification_id = ?"), append(args, f.VerificationID)
	}
	if f.State != "" {
		where, args = append(where, "state = ?"), append(args, string(f.State))
	}
	args = append(args, sandbox.ClampLimit(f.Limit))
	var out []*sandbox.Delivery
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE `+
			strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return attachHistory(ctx, tx, out)
	})
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return out, nil
}

// attachHistory reads the attempts of the deliveries.
func attachHistory(ctx context.Context, tx *sql.Tx, ds []*sandbox.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	byID := make(map[int64]*sandbox.Delivery, len(ds))
	args := make([]any, len(ds))
	for i, d := range ds {
		byID[d.ID], args[i] = d, d.ID
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+attemptColumns+` FROM attempts
		WHERE delivery_id IN (?`+strings.Repeat(", ?", len(ds)-1)+`) ORDER BY delivery_id, id`, args...)
	if err != nil {
		return fmt.Errorf("attempts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a sandbox.Attempt
		var at int64
		var latency int64
		if err := rows.Scan(&a.DeliveryID, &a.Cycle, &a.Number, &at, &a.Status, &latency, &a.Err, &a.Response, &a.Replica); err != nil {
			return fmt.Errorf("attempts: %w", err)
		}
		a.Time = fromNanos(sql.NullInt64{Int64: at, Valid: true})
		a.Latency = time.Duration(latency)
		if len(a.Response) == 0 {
			a.Response = nil
		}
		d := byID[a.DeliveryID]
		d.History = append(d.History, a)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("attempts: %w", err)
	}
	return nil
}

// Resend implements sandbox.Store.
func (db *DB) Resend(ctx context.Context, id int64, at time.Time) (*sandbox.Delivery, error) {
	now := db.now()
	var d *sandbox.Delivery
	err := db.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, qResend, nanos(at), now.UnixNano(), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return sandbox.Errorf(sandbox.ENOTFOUND, "delivery %d not found", id)
		}
		d, err = db.deliveryWithHistory(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("resend delivery %d: %w", id, err)
	}
	return d, nil
}

// readTx runs fn in one read transaction: one snapshot of the database.
func (db *DB) readTx(ctx context.Context, fn func(*sql.Tx) error) error {
	if db.read == nil {
		return errors.New("the database is not open")
	}
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

func scanDelivery(s scanner) (*sandbox.Delivery, error) {
	var d sandbox.Delivery
	var header, delaysJSON []byte
	var source, policyName, state string
	var connect, answer int64
	var next, leasedUntil, created, updated sql.NullInt64
	if err := s.Scan(&d.ID, &d.VerificationID, &d.Product, &d.Message, &d.Subject, &d.URL, &header, &d.Body, &source,
		&policyName, &connect, &answer, &delaysJSON,
		&state, &d.Cycle, &d.Attempts, &next, &d.Lease, &leasedUntil, &d.LeasedBy, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(header, &d.Header); err != nil {
		return nil, fmt.Errorf("delivery %d: header: %w", d.ID, err)
	}
	if d.Header == nil {
		d.Header = http.Header{}
	}
	var delays []int64
	if err := json.Unmarshal(delaysJSON, &delays); err != nil {
		return nil, fmt.Errorf("delivery %d: delays: %w", d.ID, err)
	}
	d.Policy = delivery.RetryPolicy{Name: policyName, ConnectTimeout: time.Duration(connect), AnswerTimeout: time.Duration(answer)}
	for _, n := range delays {
		d.Policy.Delays = append(d.Policy.Delays, time.Duration(n))
	}
	if source != "" {
		a, err := netip.ParseAddr(source)
		if err != nil {
			return nil, fmt.Errorf("delivery %d: source address: %w", d.ID, err)
		}
		d.From = a
	}
	if len(d.Body) == 0 {
		d.Body = nil
	}
	d.State = sandbox.DeliveryState(state)
	d.NextAttemptAt, d.LeasedUntil = fromNanos(next), fromNanos(leasedUntil)
	d.CreatedAt, d.UpdatedAt = fromNanos(created), fromNanos(updated)
	return &d, nil
}
