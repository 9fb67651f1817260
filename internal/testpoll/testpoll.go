// Package testpoll waits in tests for something to become true: it looks
// again on a ticker until a deadline, so that a test neither sleeps a
// guessed time nor waits without end.
package testpoll

import "time"

// Interval is how often Until looks again.
const Interval = 5 * time.Millisecond

// Until reports whether cond became true within timeout, looking at once
// and then every Interval.
func Until(timeout time.Duration, cond func() bool) bool {
	if cond() {
		return true
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(Interval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if cond() {
				return true
			}
		case <-deadline.C:
			return cond()
		}
	}
}
