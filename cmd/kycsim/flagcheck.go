package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kycsim/kycsim/conformance"
)

// The caps on numbers read from the command line: a value beyond them is
// refused with the cap in the message, so that no flag can make kycsim
// allocate without end, wait for ever or compute with NaN.
const (
	// maxConnections bounds load --connections.
	maxConnections = 10000
	// maxProbeSample bounds load --probe-sample.
	maxProbeSample = 100000
	// maxRequests bounds load --max-requests.
	maxRequests = 1_000_000_000
	// maxWorkers bounds serve --workers.
	maxWorkers = 1024
	// minTimeScale and maxTimeScale bound every --time-scale.
	minTimeScale = 1e-9
	maxTimeScale = 1000
	// maxFlagDuration bounds every duration flag without a cap of its own.
	maxFlagDuration = 7 * 24 * time.Hour
	// maxTimeout bounds the connect and answer deadlines.
	maxTimeout = time.Hour
)

// numberBound is the range a numeric flag accepts.
type numberBound struct{ min, max float64 }

// intBounds are the ranges of the integer flags, by flag name.
var intBounds = map[string]numberBound{
	"connections":  {1, maxConnections},
	"probe-sample": {1, maxProbeSample},
	"max-requests": {1, maxRequests},
	"workers":      {1, maxWorkers},
	"parallel":     {1, conformance.MaxParallel},
	"precision":    {0, 3},
}

// durationBounds are the ranges of the duration flags with bounds of their
// own, by flag name; every other duration flag takes 0 to maxFlagDuration.
var durationBounds = map[string]struct {
	min, max time.Duration
}{
	"duration":        {1, maxFlagDuration},
	"settle":          {1, maxFlagDuration},
	"connect-timeout": {1, maxTimeout},
	"answer-timeout":  {1, maxTimeout},
	"slow-delay":      {1, maxTimeout},
	"probe-settle":    {0, maxTimeout},
	"wait":            {0, 24 * time.Hour},
}

// checkSetFlags checks every flag the command line set: an empty value
// is refused (leave the flag out for its default), and so are NaN,
// infinities and numbers outside the flag's range. The message names the
// flag and the value as given: `--time-scale NaN: not a finite number`.
func checkSetFlags(fs *flag.FlagSet) error {
	var first error
	fs.Visit(func(f *flag.Flag) {
		if first != nil {
			return
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			return
		}
		shown := f.Value.String()
		if strings.TrimSpace(shown) == "" {
			first = usageErrorf("--%s %q: empty value; give a value, or leave the flag out for its default", f.Name, shown)
			return
		}
		g, ok := f.Value.(flag.Getter)
		if !ok {
			return
		}
		if err := checkNumber(f.Name, g.Get()); err != nil {
			first = usageErrorf("--%s %s: %v", f.Name, shown, err)
		}
	})
	return first
}

// checkNumber checks a parsed flag value against its flag's range.
func checkNumber(name string, val any) error {
	switch n := val.(type) {
	case float64:
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return errors.New("not a finite number")
		}
		if name == "time-scale" && (n < minTimeScale || n > maxTimeScale) {
			return fmt.Errorf("must be a factor from %g to %g", float64(minTimeScale), float64(maxTimeScale))
		}
	case int:
		return checkInt(name, float64(n))
	case int64:
		return checkInt(name, float64(n))
	case time.Duration:
		b, ok := durationBounds[name]
		if !ok {
			b.max = maxFlagDuration
		}
		switch {
		case n < 0:
			return errors.New("must be >= 0")
		case n < b.min:
			return errors.New("must be more than 0 (leave the flag out for the default)")
		case n > b.max:
			return fmt.Errorf("too long: at most %s", b.max)
		}
	}
	return nil
}

func checkInt(name string, n float64) error {
	b, ok := intBounds[name]
	if ok && (n < b.min || n > b.max) {
		return fmt.Errorf("must be %g..%g", b.min, b.max)
	}
	return nil
}

// checkTarget checks a URL a command will send to or hand out, as the
// user typed it: http(s), a host, and a port in range. flagName names
// where it came from.
func checkTarget(flagName, s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return usageErrorf("%s %q: want an absolute http:// or https:// URL with a host", flagName, s)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return usageErrorf("%s %q: port %s is out of range 1..65535", flagName, s, p)
		}
	}
	return nil
}

// checkListenAddr checks a server's --addr: host:port with a port in
// range, and a host. An address without a host would listen on every
// interface; kycsim does that only when the address says so (0.0.0.0 or
// [::]).
func checkListenAddr(flagName, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usageErrorf("%s %q: want HOST:PORT, e.g. 127.0.0.1:9000", flagName, addr)
	}
	if host == "" {
		return usageErrorf("%s %q: no host would listen on every interface; give 127.0.0.1%s for this machine only, or 0.0.0.0%s to listen on every interface", flagName, addr, ":"+port, ":"+port)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return usageErrorf("%s %q: port %s is out of range 0..65535", flagName, addr, port)
	}
	return nil
}

// computedHeaders are the request headers the HTTP client computes
// itself: a --header giving one would be dropped or would break the
// request.
var computedHeaders = []string{"Content-Length", "Transfer-Encoding", "Host", "Connection", "Trailer", "Te", "Upgrade", "Keep-Alive", "Proxy-Connection"}

// checkHeaderName refuses a --header the client computes itself.
func checkHeaderName(flagName, name string) error {
	for _, c := range computedHeaders {
		if strings.EqualFold(name, c) {
			return usageErrorf("%s %s: the HTTP client computes %s from the request; it cannot be set", flagName, name, c)
		}
	}
	return nil
}

// checkProbe checks a probe URL template: it holds {subject} and, with a
// subject put in, is an absolute http(s) URL. Errors quote the template
// as typed.
func checkProbe(flagName, tmpl string) error {
	if !strings.Contains(tmpl, "{subject}") {
		return usageErrorf("%s %q: the template has no {subject}", flagName, tmpl)
	}
	if err := checkTarget(flagName, strings.ReplaceAll(tmpl, "{subject}", "s")); err != nil {
		u, perr := url.Parse(strings.ReplaceAll(tmpl, "{subject}", "s"))
		if perr == nil && u.Port() != "" {
			return usageErrorf("%s %q: port %s is out of range 1..65535", flagName, tmpl, u.Port())
		}
		return usageErrorf("%s %q: want an absolute http:// or https:// URL with a host and {subject}", flagName, tmpl)
	}
	return nil
}
