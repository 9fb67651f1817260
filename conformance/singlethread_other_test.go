//go:build !linux

package conformance

import (
	"net"
	"testing"
)

// smallBacklogListener needs Linux (a listen backlog set by hand).
func smallBacklogListener(t *testing.T, n int) net.Listener {
	t.Skip("the single-threaded receiver with a small listen backlog is built on Linux only")
	return nil
}
