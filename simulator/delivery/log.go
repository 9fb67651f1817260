package delivery

import (
	"encoding/json"
	"io"
	"sync"
)

// Log records delivery attempts in the order they ended. It is safe for
// concurrent use.
type Log struct {
	mu       sync.Mutex
	attempts []Attempt
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
	l.attempts = append(l.attempts, a)
	if l.w != nil && l.err == nil {
		b, err := json.Marshal(a)
		if err == nil {
			b = append(b, '\n')
			_, err = l.w.Write(b)
		}
		l.err = err
	}
}

// Attempts returns the attempts recorded so far.
func (l *Log) Attempts() []Attempt {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Attempt(nil), l.attempts...)
}

// Err returns the first error writing the JSON lines, if any.
func (l *Log) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}
