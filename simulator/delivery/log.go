package delivery

import (
	"encoding/json"
	"io"
	"sync"
)

// LogCapacity is how many attempts a Log keeps in memory; older ones are
// dropped (the JSON lines, when written, keep everything). Each attempt
// holds its request and answer, so a bigger ring costs every delivery in
// garbage-collector work: 10000 made delivery about 8% slower than 1000.
const LogCapacity = 1000

// Log records delivery attempts in the order they ended. It is safe for
// concurrent use.
type Log struct {
	mu       sync.Mutex
	attempts []Attempt
	dropped  int
	// w, when set, gets every attempt as one JSON line.
	w   io.Writer
	err error
}

// NewLog returns an empty log; when w is not nil every attempt is also
// written to it as one JSON object per line.
func NewLog(w io.Writer) *Log { return &Log{w: w} }

// Add records an attempt.
func (l *Log) Add(a Attempt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.attempts) < LogCapacity {
		l.attempts = append(l.attempts, a)
	} else {
		// A ring: overwrite the oldest.
		l.attempts[l.dropped%LogCapacity] = a
		l.dropped++
	}
	if l.w != nil && l.err == nil {
		b, err := json.Marshal(a)
		if err == nil {
			b = append(b, '\n')
			_, err = l.w.Write(b)
		}
		l.err = err
	}
}

// Dropped returns how many of the oldest attempts were dropped from
// memory.
func (l *Log) Dropped() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}

// Attempts returns the attempts kept in memory, oldest first.
func (l *Log) Attempts() []Attempt {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := l.dropped % LogCapacity
	out := make([]Attempt, 0, len(l.attempts))
	out = append(out, l.attempts[start:]...)
	return append(out, l.attempts[:start]...)
}

// Err returns the first error writing the JSON lines, if any.
func (l *Log) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}
