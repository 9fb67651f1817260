package testpoll

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestUntil(t *testing.T) {
	var n atomic.Int32
	if !Until(time.Second, func() bool { return n.Add(1) >= 3 }) {
		t.Error("a condition that becomes true was not seen")
	}
	if Until(20*time.Millisecond, func() bool { return false }) {
		t.Error("a condition that never holds was reported true")
	}
}
