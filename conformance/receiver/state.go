package receiver

import (
	"container/list"
	"sync"
	"time"
)

// keysPerSubject sets the bound on deduplication keys: the store keeps at
// most keysPerSubject times as many keys as subjects.
const keysPerSubject = 8

// recorded is what the store did with an event.
type recorded int

const (
	// applied: a new event; the subject's state is now the event's.
	applied recorded = iota
	// stale: a new event, counted, but older than the state held, which
	// stays.
	stale
	// duplicate: the event was acted on before; nothing changed.
	duplicate
)

// subjectState is what the receiver holds about one subject.
type subjectState struct {
	subject  string
	events   int
	status   string
	decision string
	rank     int
	at       time.Time
	// seen holds the subject's deduplication keys, each with its place
	// in store.keys.
	seen map[string]*list.Element
}

// seenKey is an element of store.keys.
type seenKey struct{ subject, key string }

// store keeps per-subject state; it is safe for concurrent use, so that
// concurrent identical deliveries are acted on once. It is bounded: past
// maxSubjects subjects the least recently updated one is forgotten with
// its keys, and past maxKeys keys the least recently seen key is.
// A forgotten subject starts afresh if it comes back.
type store struct {
	mu          sync.Mutex
	maxSubjects int
	maxKeys     int
	dedup       bool // drop events seen before
	// racyWindow, when set (DefectRacyDedup), makes record check then
	// act: it looks the key up, waits this long, then records without
	// looking again, so copies arriving together are all acted on.
	racyWindow time.Duration
	ordered    bool // never let an older event replace the state
	// Defects (DefectStaleRedApplies, DefectRetryAsFinal).
	staleRedApplies bool                     // a RED review applies even when older
	redIsFinal      bool                     // once RED, the state stays
	subjects        map[string]*list.Element // of *subjectState, in byUpdate
	byUpdate        *list.List               // *subjectState, most recently updated first
	keys            *list.List               // seenKey, most recently seen first
}

func newStore(maxSubjects int) *store {
	return &store{
		maxSubjects: maxSubjects, maxKeys: keysPerSubject * maxSubjects, dedup: true, ordered: true,
		subjects: map[string]*list.Element{}, byUpdate: list.New(), keys: list.New(),
	}
}

// record acts on an event unless it was seen before. The subject's status
// moves only forward: a KYX event must rank higher than the current one,
// any other must be newer (by vendor time).
func (s *store) record(e event) recorded {
	if s.racyWindow > 0 && s.dedup {
		if s.seenBefore(e) {
			return duplicate
		}
		time.Sleep(s.racyWindow)
		return s.insert(e, false)
	}
	return s.insert(e, true)
}

// seenBefore reports whether the event's key was recorded.
func (s *store) seenBefore(e event) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	el := s.subjects[e.subject]
	return el != nil && el.Value.(*subjectState).seen[e.key] != nil
}

// insert records an event; check says whether to look its key up first
// (atomically, under the same lock).
func (s *store) insert(e event, check bool) recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	el := s.subjects[e.subject]
	if el == nil {
		el = s.byUpdate.PushFront(&subjectState{subject: e.subject, seen: map[string]*list.Element{}})
		s.subjects[e.subject] = el
	}
	st := el.Value.(*subjectState)
	if k := st.seen[e.key]; k != nil && s.dedup {
		s.keys.MoveToFront(k)
		if check {
			return duplicate
		}
	} else if s.dedup {
		st.seen[e.key] = s.keys.PushFront(seenKey{e.subject, e.key})
	}
	st.events++
	s.byUpdate.MoveToFront(el)
	s.evict()
	red := e.product == "sumsub" && e.status == "completed/RED"
	switch {
	case st.events == 1 || !s.ordered:
	case s.redIsFinal && st.status == "completed/RED":
		return stale
	case s.staleRedApplies && red:
	case e.product == "jumio-kyx" && e.rank <= st.rank:
		return stale
	case e.product != "jumio-kyx" && !e.at.After(st.at):
		return stale
	}
	st.status, st.decision, st.rank, st.at = e.status, e.decision, e.rank, e.at
	return applied
}

// revoke sets a known subject's status to what an invalid event says
// and withdraws its decision (DefectInvalidRevokes).
func (s *store) revoke(subject, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el := s.subjects[subject]; el != nil {
		st := el.Value.(*subjectState)
		st.status, st.decision = status, "pending"
	}
}

// evict forgets subjects and keys beyond the bounds, oldest first.
func (s *store) evict() {
	for s.byUpdate.Len() > s.maxSubjects {
		st := s.byUpdate.Remove(s.byUpdate.Back()).(*subjectState)
		delete(s.subjects, st.subject)
		for _, k := range st.seen {
			s.keys.Remove(k)
		}
	}
	for s.keys.Len() > s.maxKeys {
		k := s.keys.Remove(s.keys.Back()).(seenKey)
		if el := s.subjects[k.subject]; el != nil {
			delete(el.Value.(*subjectState).seen, k.key)
		}
	}
}

// probe returns the events acted on, the status and the decision of a
// subject.
func (s *store) probe(subject string) (int, string, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el := s.subjects[subject]
	if el == nil {
		return 0, "", "", false
	}
	st := el.Value.(*subjectState)
	return st.events, st.status, st.decision, true
}

// size returns how many subjects and keys the store holds.
func (s *store) size() (subjects, keys int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byUpdate.Len(), s.keys.Len()
}
