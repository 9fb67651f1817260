package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/sandbox"
)

const deliveryColumns = `id, coalesce(verification_id, ''), product, message, subject, url, header, body, source,
	policy_name, connect_timeout_ns, answer_timeout_ns, delays_ns,
	state, cycle, attempts, next_attempt_at, lease, leased_until, leased_by, created_at, updated_at`

const attemptColumns = `delivery_id, cycle, number, at, status, latency_ns, error, response, replica`

const qInsertDelivery = `INSERT INTO deliveries (
		verification_id, product, message, subject, url, header, body, source,
		policy_name, connect_timeout_ns, answer_timeout_ns, delays_ns,
		state, cycle, attempts, next_attempt_at, lease, leased_until, created_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'pending', 1, 0, $13, 0, NULL, $14, $14)
	RETURNING id`

// Enqueue implements sandbox.Store: the deliveries in one batch, one
// transaction. A delivery of an unknown verification fails them all
// (the foreign key).
func (db *DB) Enqueue(ctx context.Context, ds ...*sandbox.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	if err := sandbox.ValidateDeliveries(ds); err != nil {
		return err
	}
	now := db.now()
	b := &pgx.Batch{}
	if err := queueDeliveries(b, now, "", ds); err != nil {
		return err
	}
	ids, err := db.runInsertBatch(ctx, b, 0, len(ds))
	if pgCode(err) == codeForeignKeyViolation {
		return sandbox.Errorf(sandbox.ENOTFOUND, "enqueue deliveries: a delivery's verification was not found")
	}
	if err != nil {
		return fmt.Errorf("enqueue deliveries: %w", err)
	}
	sandbox.Settle(ds, ids, "", now)
	return nil
}

// queueDeliveries adds the inserts of pending deliveries to a batch;
// verificationID, when set, is the verification they belong to.
func queueDeliveries(b *pgx.Batch, now time.Time, verificationID string, ds []*sandbox.Delivery) error {
	for _, d := range ds {
		vid := d.VerificationID
		if verificationID != "" {
			vid = verificationID
		}
		header := d.Header
		if header == nil {
			header = http.Header{}
		}
		hj, err := json.Marshal(header)
		if err != nil {
			return fmt.Errorf("delivery header: %w", err)
		}
		delays := make([]int64, len(d.Policy.Delays))
		for j, delay := range d.Policy.Delays {
			delays[j] = int64(delay)
		}
		source := ""
		if d.From.IsValid() {
			source = d.From.String()
		}
		body := d.Body
		if body == nil {
			body = []byte{}
		}
		var vidArg *string
		if vid != "" {
			vidArg = &vid
		}
		b.Queue(qInsertDelivery, vidArg, d.Product, d.Message, d.Subject, d.URL, string(hj), body, source,
			d.Policy.Name, int64(d.Policy.ConnectTimeout), int64(d.Policy.AnswerTimeout), delays,
			nanos(d.NextAttemptAt), now.UnixNano())
	}
	return nil
}

// Claim implements sandbox.Store. SKIP LOCKED lets replicas claim at
// the same moment without waiting for each other or taking one delivery
// twice.
func (db *DB) Claim(ctx context.Context, c sandbox.Claim) ([]*sandbox.Delivery, error) {
	if c.Limit <= 0 {
		return nil, sandbox.Errorf(sandbox.EINVALID, "claim deliveries: limit %d", c.Limit)
	}
	if !c.Until.After(c.Now) {
		return nil, sandbox.Errorf(sandbox.EINVALID, "claim deliveries: the lease ends before it starts")
	}
	rows, err := db.q().Query(ctx, `UPDATE deliveries SET lease = lease + 1, leased_until = $1, leased_by = $2
		WHERE id IN (
			SELECT id FROM deliveries
			WHERE state = 'pending' AND next_attempt_at <= $3 AND (leased_until IS NULL OR leased_until <= $4)
			ORDER BY next_attempt_at, id LIMIT $5
			FOR UPDATE SKIP LOCKED)
		RETURNING `+deliveryColumns,
		c.Until.UnixNano(), c.Owner, nanos(c.Due), c.Now.UnixNano(), c.Limit)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	out, err := collectDeliveries(rows)
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
	err := db.q().QueryRow(ctx, `SELECT next_attempt_at FROM deliveries
		WHERE state = 'pending' AND (leased_until IS NULL OR leased_until <= $1)
		ORDER BY next_attempt_at LIMIT 1`, now.UnixNano()).Scan(&next)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due delivery: %w", err)
	}
	return fromNanos(&next), true, nil
}

// Record implements sandbox.Store: one statement moves the delivery on
// (if the lease is still held) and writes the attempt (if the delivery
// exists).
func (db *DB) Record(ctx context.Context, o sandbox.Outcome) error {
	a := o.Attempt
	if a.DeliveryID <= 0 || a.Cycle <= 0 || a.Number <= 0 {
		return sandbox.Errorf(sandbox.EINVALID, "record attempt: delivery %d, cycle %d, number %d", a.DeliveryID, a.Cycle, a.Number)
	}
	var next *int64
	switch o.State {
	case sandbox.Pending:
		n := nanos(o.NextAttemptAt)
		next = &n
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
	var moved, written int
	err := db.q().QueryRow(ctx, `WITH
		moved AS (
			UPDATE deliveries SET attempts = $1, state = $2, next_attempt_at = $3, leased_until = NULL, leased_by = '', updated_at = $4
			WHERE id = $5 AND lease = $6 AND cycle = $7 AND state = 'pending'
			RETURNING 1),
		written AS (
			INSERT INTO attempts (`+attemptColumns+`)
			SELECT $5, $7, $1, $8, $9, $10, $11, $12, $13
			WHERE EXISTS (SELECT 1 FROM deliveries WHERE id = $5)
			RETURNING 1)
		SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM written)`,
		a.Number, string(o.State), next, db.now().UnixNano(), a.DeliveryID, o.Lease, a.Cycle,
		nanos(a.Time), a.Status, int64(a.Latency), a.Err, response, a.Replica).Scan(&moved, &written)
	if err != nil {
		return fmt.Errorf("record attempt %d of delivery %d: %w", a.Number, a.DeliveryID, err)
	}
	if written == 0 {
		return sandbox.Errorf(sandbox.ENOTFOUND, "delivery %d not found", a.DeliveryID)
	}
	if moved == 0 {
		return sandbox.Errorf(sandbox.ECONFLICT, "delivery %d: lease %d is no longer held; attempt %d recorded, the delivery left as it is", a.DeliveryID, o.Lease, a.Number)
	}
	return nil
}

// Delivery implements sandbox.Store.
func (db *DB) Delivery(ctx context.Context, id int64) (*sandbox.Delivery, error) {
	var d *sandbox.Delivery
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = $1`, id)
		if err != nil {
			return err
		}
		d, err = oneWithHistory(ctx, tx, rows, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read delivery %d: %w", id, err)
	}
	return d, nil
}

// Deliveries implements sandbox.Store.
func (db *DB) Deliveries(ctx context.Context, f sandbox.DeliveryFilter) ([]*sandbox.Delivery, error) {
	where := []string{"id > $1"}
	args := []any{f.AfterID}
	if f.VerificationID != "" {
		args = append(args, f.VerificationID)
		where = append(where, "verification_id = $"+strconv.Itoa(len(args)))
	}
	if f.State != "" {
		args = append(args, string(f.State))
		where = append(where, "state = $"+strconv.Itoa(len(args)))
	}
	args = append(args, sandbox.ClampLimit(f.Limit))
	q := `SELECT ` + deliveryColumns + ` FROM deliveries WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY id LIMIT $` + strconv.Itoa(len(args))
	var out []*sandbox.Delivery
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		if out, err = collectDeliveries(rows); err != nil {
			return err
		}
		return attachHistory(ctx, tx, out)
	})
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return out, nil
}

// readTx runs fn in a read-only transaction on one snapshot.
func (db *DB) readTx(ctx context.Context, fn func(pgx.Tx) error) error {
	if db.pool == nil {
		return errClosed
	}
	return pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// attachHistory reads the attempts of the deliveries.
func attachHistory(ctx context.Context, tx pgx.Tx, ds []*sandbox.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	byID := make(map[int64]*sandbox.Delivery, len(ds))
	idList := make([]int64, len(ds))
	for i, d := range ds {
		byID[d.ID], idList[i] = d, d.ID
	}
	rows, err := tx.Query(ctx, `SELECT `+attemptColumns+` FROM attempts WHERE delivery_id = ANY($1) ORDER BY delivery_id, id`, idList)
	if err != nil {
		return fmt.Errorf("attempts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a sandbox.Attempt
		var at, latency int64
		if err := rows.Scan(&a.DeliveryID, &a.Cycle, &a.Number, &at, &a.Status, &latency, &a.Err, &a.Response, &a.Replica); err != nil {
			return fmt.Errorf("attempts: %w", err)
		}
		a.Time = fromNanos(&at)
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
	err := pgx.BeginFunc(ctx, db.q(), func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE deliveries
			SET state = 'pending', cycle = cycle + 1, attempts = 0, next_attempt_at = $1,
				lease = lease + 1, leased_until = NULL, leased_by = '', updated_at = $2
			WHERE id = $3
			RETURNING `+deliveryColumns, nanos(at), now.UnixNano(), id)
		if err != nil {
			return err
		}
		d, err = oneWithHistory(ctx, tx, rows, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("resend delivery %d: %w", id, err)
	}
	return d, nil
}

// oneWithHistory reads the one delivery rows hold, with its attempts
// (ENOTFOUND when they hold none).
func oneWithHistory(ctx context.Context, tx pgx.Tx, rows pgx.Rows, id int64) (*sandbox.Delivery, error) {
	ds, err := collectDeliveries(rows)
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, sandbox.Errorf(sandbox.ENOTFOUND, "delivery %d not found", id)
	}
	return ds[0], attachHistory(ctx, tx, ds)
}

func collectDeliveries(rows pgx.Rows) ([]*sandbox.Delivery, error) {
	defer rows.Close()
	var out []*sandbox.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func scanDelivery(s pgx.Row) (*sandbox.Delivery, error) {
	var d sandbox.Delivery
	var header []byte
	var delays []int64
	var source, policyName, state string
	var connect, answer int64
	var next, leasedUntil, created, updated *int64
	if err := s.Scan(&d.ID, &d.VerificationID, &d.Product, &d.Message, &d.Subject, &d.URL, &header, &d.Body, &source,
		&policyName, &connect, &answer, &delays,
		&state, &d.Cycle, &d.Attempts, &next, &d.Lease, &leasedUntil, &d.LeasedBy, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(header, &d.Header); err != nil {
		return nil, fmt.Errorf("delivery %d: header: %w", d.ID, err)
	}
	if d.Header == nil {
		d.Header = http.Header{}
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
