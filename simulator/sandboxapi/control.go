package sandboxapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/kycsim/kycsim/simulator/sandbox"
)

// outcomeRequest is the body of a control outcome.
type outcomeRequest struct {
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
}

// controlKYXOutcome picks a KYX workflow's outcome.
func (s *Server) controlKYXOutcome(w http.ResponseWriter, r *http.Request) error {
	return s.controlOutcome(w, r, "jumio-kyx", mux.Vars(r)["workflowExecutionId"])
}

// controlNetverifyOutcome picks a Netverify transaction's outcome.
func (s *Server) controlNetverifyOutcome(w http.ResponseWriter, r *http.Request) error {
	return s.controlOutcome(w, r, "jumio-netverify", mux.Vars(r)["transactionReference"])
}

// controlOutcome plays an outcome and answers 202 with the verification
// and the number of callbacks queued.
func (s *Server) controlOutcome(w http.ResponseWriter, r *http.Request, product, id string) error {
	var req outcomeRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	v, n, err := s.enqueueOutcome(ctx, id, product, req.Outcome, req.Reason, nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"id": v.ID, "status": v.Status, "outcome": req.Outcome, "callbacks": n})
	return nil
}

// deliveryJSON is a delivery as the control API shows it.
type deliveryJSON struct {
	ID             int64      `json:"id"`
	VerificationID string     `json:"verificationId"`
	Product        string     `json:"product"`
	Message        string     `json:"message"`
	Subject        string     `json:"subject"`
	URL            string     `json:"url"`
	State          string     `json:"state"`
	Cycle          int        `json:"cycle"`
	NextAttemptAt  *time.Time `json:"nextAttemptAt,omitempty"`
	// LeasedBy and LeasedUntil: the replica sending it now (wall clock).
	LeasedBy    string        `json:"leasedBy,omitempty"`
	LeasedUntil *time.Time    `json:"leasedUntil,omitempty"`
	Body        string        `json:"body"`
	Attempts    []attemptJSON `json:"attempts"`
}

// attemptJSON is an attempt as the control API shows it.
type attemptJSON struct {
	Cycle     int       `json:"cycle"`
	Number    int       `json:"number"`
	Time      time.Time `json:"time"`
	Status    int       `json:"status"`
	LatencyMs float64   `json:"latencyMs"`
	Error     string    `json:"error,omitempty"`
	Response  string    `json:"response,omitempty"`
	// Replica is the replica that made the attempt.
	Replica string `json:"replica,omitempty"`
}

func newDeliveryJSON(d *sandbox.Delivery) deliveryJSON {
	out := deliveryJSON{ID: d.ID, VerificationID: d.VerificationID, Product: d.Product, Message: d.Message, Subject: d.Subject,
		URL: d.URL, State: string(d.State), Cycle: d.Cycle, Body: string(d.Body), Attempts: []attemptJSON{}}
	if !d.NextAttemptAt.IsZero() {
		t := d.NextAttemptAt
		out.NextAttemptAt = &t
	}
	if d.LeasedBy != "" && !d.LeasedUntil.IsZero() {
		t := d.LeasedUntil
		out.LeasedBy, out.LeasedUntil = d.LeasedBy, &t
	}
	for _, a := range d.History {
		out.Attempts = append(out.Attempts, attemptJSON{Cycle: a.Cycle, Number: a.Number, Time: a.Time, Status: a.Status,
			LatencyMs: float64(a.Latency.Microseconds()) / 1000, Error: a.Err, Response: string(a.Response), Replica: a.Replica})
	}
	return out
}

// controlDeliveries lists callbacks with their attempts: ?verification=,
// ?state=, ?after= (paging by id), ?limit=.
func (s *Server) controlDeliveries(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := sandbox.DeliveryFilter{VerificationID: q.Get("verification"), State: sandbox.DeliveryState(q.Get("state"))}
	var err error
	if a := q.Get("after"); a != "" {
		if f.AfterID, err = strconv.ParseInt(a, 10, 64); err != nil {
			return errorf(http.StatusBadRequest, "query parameter after: %q is not a delivery id", a)
		}
	}
	if l := q.Get("limit"); l != "" {
		if f.Limit, err = strconv.Atoi(l); err != nil || f.Limit < 1 || f.Limit > sandbox.MaxLimit {
			return errorf(http.StatusBadRequest, "query parameter limit: want 1 to %d", sandbox.MaxLimit)
		}
	}
	switch f.State {
	case "", sandbox.Pending, sandbox.Delivered, sandbox.Failed:
	default:
		return errorf(http.StatusBadRequest, "query parameter state: want pending, delivered or failed")
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	ds, err := s.cfg.Store.Deliveries(ctx, f)
	if err != nil {
		return err
	}
	out := make([]deliveryJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, newDeliveryJSON(d))
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": out})
	return nil
}

// controlResend delivers a callback again, now.
func (s *Server) controlResend(w http.ResponseWriter, r *http.Request) error {
	raw := mux.Vars(r)["deliveryId"]
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return errorf(http.StatusNotFound, "no delivery %s", raw)
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	d, err := s.cfg.Store.Resend(ctx, id, s.cfg.Clock.Now())
	if err != nil {
		return err
	}
	s.cfg.Wake()
	writeJSON(w, http.StatusAccepted, newDeliveryJSON(d))
	return nil
}

// controlVerification shows a verification as the sandbox holds it.
func (s *Server) controlVerification(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	v, err := s.cfg.Store.Verification(ctx, mux.Vars(r)["verificationId"])
	if err != nil {
		return err
	}
	out := map[string]any{
		"id": v.ID, "product": v.Product, "accountId": v.AccountID, "externalRef": v.ExternalRef, "status": v.Status,
		"state": json.RawMessage(orEmptyObject(v.State)), "callbackUrl": v.CallbackURL, "createdAt": v.CreatedAt,
		"updatedAt": v.UpdatedAt, "expiresAt": nil, "version": v.Version,
	}
	// A verification that ended expires no more: null, not the zero time.
	if !v.ExpiresAt.IsZero() {
		out["expiresAt"] = v.ExpiresAt
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func orEmptyObject(b []byte) []byte {
	if len(b) == 0 {
		return []byte("{}")
	}
	return b
}
