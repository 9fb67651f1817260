package main

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/kycsim/kycsim/simulator/vendorapi"
)

// serveLoopback serves h on a free 127.0.0.1 port and returns its base URL
// and a function that stops it.
func serveLoopback(what string, h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("start the %s: %w", what, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// startVendorAPI serves a vendor API mock on loopback: the callbacks'
// links point at it, and it counts the receiver's fetches.
func startVendorAPI() (*vendorapi.Server, string, func(), error) {
	vendor := vendorapi.New()
	base, stop, err := serveLoopback("vendor API mock", vendor)
	return vendor, base, stop, err
}
