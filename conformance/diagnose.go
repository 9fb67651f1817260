package conformance

import (
	"fmt"
	"net/http"

	"github.com/kycsim/kycsim/simulator/delivery"
)

// Misdirection says that every answer of a run was the same status that
// means the callbacks go to the wrong place: 404 or 405 (no webhook
// there), or a redirect (vendors do not follow them).
type Misdirection struct {
	Status int `json:"status"`
	// Location is the redirect's target, when the answers are redirects.
	Location string `json:"location,omitempty"`
	// Answers is how many answers there were, all with Status.
	Answers int `json:"answers"`
}

// Hint says what a misdirection likely means, for a target given as
// flagName.
func (m *Misdirection) Hint(flagName string) string {
	status := fmt.Sprintf("%d %s", m.Status, http.StatusText(m.Status))
	switch {
	case m.Status == http.StatusNotFound:
		return fmt.Sprintf("every request got %s (%d answers): is %s the receiver's webhook path?", status, m.Answers, flagName)
	case m.Status == http.StatusMethodNotAllowed:
		return fmt.Sprintf("every request got %s (%d answers): the vendor POSTs; is %s the receiver's webhook path, and does it take POST?", status, m.Answers, flagName)
	}
	to := ""
	if m.Location != "" {
		to = " to " + m.Location
	}
	return fmt.Sprintf("every request got %s%s (%d answers): vendors do not follow redirects; give %s the final URL (scheme, host, trailing slash)", status, to, m.Answers, flagName)
}

// misdirecting reports whether a status, alone on every answer, means
// the callbacks go to the wrong place.
func misdirecting(status int) bool {
	return status == http.StatusNotFound || status == http.StatusMethodNotAllowed || (status >= 300 && status < 400)
}

// minMisdirectedAnswers is how many answers, all the same misdirecting
// status, a finished run needs to be diagnosed as misdirected.
const minMisdirectedAnswers = 3

// targetWatch follows the answers of a run for the signs of a
// misconfigured target: every answer the same 404, 405 or redirect, or
// every answer after the deadline. runState.mu guards it.
type targetWatch struct {
	status   int  // the status of every answer so far (0: none yet)
	answers  int  // how many answers had it
	mixed    bool // the answers differ, or one is not misdirecting
	location string
	late     int // answers in a row after the deadline
}

// observe takes an answered attempt into account.
func (w *targetWatch) observe(a delivery.Attempt) {
	if a.Late {
		w.late++
	} else {
		w.late = 0
	}
	if w.mixed || a.HeadersTooLarge {
		w.mixed = true
		return
	}
	if w.answers == 0 {
		w.status, w.location = a.Status, a.ResponseHeader.Get("Location")
	}
	if a.Status != w.status || !misdirecting(a.Status) {
		w.mixed = true
		return
	}
	w.answers++
}

// misdirection returns the diagnosis once at least min answers, all the
// same misdirecting status, came in; nil otherwise.
func (w *targetWatch) misdirection(min int) *Misdirection {
	if w.mixed || w.answers < min {
		return nil
	}
	return &Misdirection{Status: w.status, Location: w.location, Answers: w.answers}
}

// lateMessage says why a run gave up on a target that answers only after
// the deadline.
func lateMessage(n int, last delivery.Attempt) string {
	return fmt.Sprintf("the target answers, but after the vendor's deadline: %d answers in a row came too late (the last: %s)", n, last.Err)
}
