package sandboxapi

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Where callbacks may go. A sandbox shared by many teams must not become
// a way to reach what sits beside it: the API's callers choose the
// callbackUrl, and the sandbox POSTs to it. The rules, checked when a
// verification is created (the URL) and again at every connection (the
// addresses the host resolves to, so that a name cannot be pointed
// elsewhere later):
//
//   - A host is admitted by an --allow-callback pattern (host, host:port
//     or *.suffix), or, when none is given, if it is a loopback host and
//     the sandbox itself listens on loopback. The --webhook URLs are
//     admitted as the operator named them.
//   - A loopback address is reached only on a port of the default list
//     (unprivileged, not a well-known service's, not the sandbox's own)
//     or on one that a host:port pattern or a --webhook URL names.
//   - A sandbox that listens off loopback (shared) reaches no internal
//     address (loopback, private, link-local, carrier-grade NAT, cloud
//     metadata, unspecified, multicast) unless an exact pattern (not
//     *.suffix) or a --webhook URL names its host.

// ServicePorts are the unprivileged loopback ports callbacks never go to
// unless named: databases, caches, queues, orchestration and secrets
// services that commonly listen on a developer's machine.
var ServicePorts = []uint16{
	1433, 1521, 2181, 2375, 2376, 2379, 2380, 3306, 4369, 5432, 5672, 5984, 6379, 6443, 8200, 8500,
	9042, 9092, 9200, 9300, 10250, 11211, 15672, 27017,
}

// defaultPort reports whether callbacks may go to a loopback port no
// pattern names.
func (s *Server) defaultPort(port uint16) bool {
	if port < 1024 || slices.Contains(ServicePorts, port) {
		return false
	}
	return s.cfg.ListenPort == 0 || int(port) != s.cfg.ListenPort
}

// internalAddr reports whether an address is one a shared sandbox must
// not reach unless named.
func internalAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsUnspecified() || a.IsMulticast() || a.IsInterfaceLocalMulticast() ||
		cgnat.Contains(a) || thisNetwork.Contains(a)
}

var (
	cgnat       = netip.MustParsePrefix("100.64.0.0/10") // also Alibaba's metadata, 100.100.100.200
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
)

// urlPort is a URL's port, or its scheme's.
func urlPort(u *url.URL) uint16 {
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			return 0
		}
		return uint16(n)
	}
	if u.Scheme == "https" {
		return 443
	}
	return 80
}

// named reports whether the operator named a host (and, with port > 0,
// that port): an exact --allow-callback pattern, or a --webhook URL.
func (s *Server) named(host string, port uint16) bool {
	host = strings.ToLower(strings.Trim(host, "[]"))
	for _, w := range s.cfg.Webhooks {
		if wu, err := url.Parse(w); err == nil && strings.EqualFold(wu.Hostname(), host) && (port == 0 || urlPort(wu) == port) {
			return true
		}
	}
	for _, pat := range s.cfg.AllowCallback {
		pat = strings.ToLower(pat)
		if strings.HasPrefix(pat, "*.") {
			continue
		}
		h, p, err := net.SplitHostPort(pat)
		if err != nil {
			h, p = strings.Trim(pat, "[]"), ""
		}
		if h != host {
			continue
		}
		if port == 0 || p == "" && s.defaultPort(port) || p == strconv.Itoa(int(port)) {
			return true
		}
	}
	return false
}

// callbackAllowed reports whether callbacks may go to a URL: the check
// when a verification is created.
func (s *Server) callbackAllowed(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("callbackUrl %q is not an absolute http(s) URL", raw)
	}
	host := u.Hostname()
	port := urlPort(u)
	if port == 0 {
		return fmt.Errorf("callbackUrl %q: the port is not a number from 1 to 65535", raw)
	}
	admitted := false
	if len(s.cfg.AllowCallback) == 0 {
		admitted = s.named(host, 0) || (!s.cfg.Exposed && isLoopback(host))
		if !admitted {
			if s.cfg.Exposed {
				return fmt.Errorf("callbackUrl host %q is not allowed: this sandbox listens off loopback and sends callbacks to the --webhook hosts and the --allow-callback patterns only", host)
			}
			return fmt.Errorf("callbackUrl host %q is not allowed: the sandbox sends callbacks to loopback and the --webhook hosts only (see --allow-callback)", host)
		}
	} else {
		for _, pat := range s.cfg.AllowCallback {
			if matchHost(pat, u) {
				admitted = true
				break
			}
		}
		if !admitted {
			return fmt.Errorf("callbackUrl host %q matches no --allow-callback pattern", host)
		}
	}
	// A literal address (or localhost) is judged now; a name again when
	// it is resolved, at every connection.
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if strings.EqualFold(host, "localhost") {
		ip, err = netip.MustParseAddr("127.0.0.1"), nil
	}
	if err != nil {
		return nil
	}
	return s.checkAddr(host, netip.AddrPortFrom(ip, port))
}

// CheckDial is the Dispatcher's guard (delivery.Dispatcher.CheckDial):
// whether a callback to host may connect to addr.
func (s *Server) CheckDial(host string, addr netip.AddrPort) error {
	return s.checkAddr(host, addr)
}

// checkAddr applies the address rules to one address a host stands for.
func (s *Server) checkAddr(host string, ap netip.AddrPort) error {
	ip, port := ap.Addr().Unmap(), ap.Port()
	if ip.IsLoopback() {
		if s.cfg.Exposed && !s.named(host, 0) {
			return fmt.Errorf("callback to %s (%s) refused: a sandbox listening off loopback does not call loopback addresses unless --allow-callback names the host", host, ap)
		}
		if !s.defaultPort(port) && !s.named(host, port) {
			return fmt.Errorf("callback to %s refused: loopback port %d is not one callbacks go to (ports 1024 and up, except well-known services' and the sandbox's own; name HOST:%d with --allow-callback to allow it)", ap, port, port)
		}
		return nil
	}
	if s.cfg.Exposed && internalAddr(ip) && !s.named(host, 0) {
		return fmt.Errorf("callback to %s (%s) refused: an internal address (private, link-local, metadata); name the host with --allow-callback to allow it", host, ap)
	}
	return nil
}

// matchHost reports whether a URL's host matches a pattern: a host, a
// host:port, or *.suffix.
func matchHost(pat string, u *url.URL) bool {
	pat = strings.ToLower(pat)
	host := strings.ToLower(u.Hostname())
	if h, p, err := net.SplitHostPort(pat); err == nil {
		return strings.Trim(h, "[]") == host && p == strconv.Itoa(int(urlPort(u)))
	}
	if suffix, ok := strings.CutPrefix(pat, "*."); ok {
		return strings.HasSuffix(host, "."+suffix)
	}
	return strings.Trim(pat, "[]") == host
}

// isLoopback reports whether a host is a loopback name or address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.Unmap().IsLoopback()
}
