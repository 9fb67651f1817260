package receiver

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// JumioCallbackSources are the addresses Jumio publishes for its callbacks:
// the current KYX regions (callback.amer-1/emea-1/apac-1.jumio.ai) and the
// older Netverify lists (callback.jumio.com, callback.lon.jumio.com,
// callback.core-sgp.jumio.com). Jumio callbacks carry no signature: this
// list is their only authenticity check.
var JumioCallbackSources = mustAddrs(
	// AMER
	"34.202.241.227", "34.226.103.119", "34.226.254.127", "52.8.136.236", "54.177.61.57", "54.183.15.212",
	// EMEA
	"34.253.41.236", "35.157.27.193", "52.48.0.25", "52.57.194.92", "52.58.113.86", "52.209.180.134",
	// APAC
	"3.0.109.121", "52.76.184.73", "52.77.102.92", "13.238.100.17", "13.238.203.238", "52.64.132.26",
	// Legacy Netverify US list
	"52.52.51.178", "52.53.95.123", "54.67.101.173",
)

// DefaultTestSources are the test addresses allowed besides Jumio's when
// none are configured: the usual loopback addresses, so that a simulator
// sending from 127.0.0.2 or another loopback address is foreign.
var DefaultTestSources = mustAddrs("127.0.0.1", "::1")

func mustAddrs(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, x := range s {
		out[i] = netip.MustParseAddr(x)
	}
	return out
}

// ParseAddrs reads a comma-separated list of IP addresses.
func ParseAddrs(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("address %q: %w", part, err)
		}
		out = append(out, a.Unmap())
	}
	return out, nil
}

// source returns the address a request comes from: the peer, or, behind a
// proxy, the address the proxy appended last to X-Forwarded-For.
func source(r *http.Request, trustForwarded bool) (netip.Addr, error) {
	if trustForwarded {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			last := strings.TrimSpace(parts[len(parts)-1])
			a, err := netip.ParseAddr(last)
			if err != nil {
				return netip.Addr{}, fmt.Errorf("header X-Forwarded-For: %q is not an address", last)
			}
			return a.Unmap(), nil
		}
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("peer address %q: %w", r.RemoteAddr, err)
	}
	return ap.Addr().Unmap(), nil
}
