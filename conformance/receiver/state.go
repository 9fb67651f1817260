package receiver

import (
	"sync"
	"time"
)

// event is what the receiver keeps of one callback it acted on.
type event struct {
	product string
	subject string
	key     string // deduplication key
	status  string
	rank    int       // KYX: how far the workflow got
	at      time.Time // the vendor's time of the event
	href    string    // KYX: where the result is fetched from
	fetch   bool      // whether acting on it fetches href
}

// subjectState is what the receiver holds about one subject.
type subjectState struct {
	events int
	status string
	rank   int
	at     time.Time
	seen   map[string]bool
}

// store keeps per-subject state; it is safe for concurrent use, so that
// concurrent identical deliveries are acted on once.
type store struct {
	mu       sync.Mutex
	subjects map[string]*subjectState
}

func newStore() *store { return &store{subjects: map[string]*subjectState{}} }

// record acts on an event unless it was seen before; it reports whether it
// did. The subject's status moves only forward: a KYX event must rank
// higher than the current one, any other must be newer (by vendor time).
func (s *store) record(e event, dedup, ordered bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.subjects[e.subject]
	if st == nil {
		st = &subjectState{seen: map[string]bool{}}
		s.subjects[e.subject] = st
	}
	if dedup && st.seen[e.key] {
		return false
	}
	st.seen[e.key] = true
	st.events++
	switch {
	case st.events == 1 || !ordered:
	case e.product == "jumio-kyx":
		if e.rank <= st.rank {
			return true
		}
	default:
		if !e.at.After(st.at) {
			return true
		}
	}
	st.status, st.rank, st.at = e.status, e.rank, e.at
	return true
}

// probe returns the events acted on and the status of a subject.
func (s *store) probe(subject string) (int, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.subjects[subject]
	if st == nil {
		return 0, "", false
	}
	return st.events, st.status, true
}
