//go:build linux

package conformance

import (
	"net"
	"os"
	"syscall"
	"testing"
)

// smallBacklogListener listens on 127.0.0.1 on an ephemeral port with a
// listen backlog of n, as a development server does (Python's
// http.server has 5, some have 1): connections beyond it are dropped by
// the kernel until the server accepts.
func smallBacklogListener(t *testing.T, n int) net.Listener {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "small-backlog")
	defer f.Close()
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, n); err != nil {
		t.Fatal(err)
	}
	ln, err := net.FileListener(f)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}
