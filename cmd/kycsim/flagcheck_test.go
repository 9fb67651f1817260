package main

import (
	"flag"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/kycsim/kycsim/simulator/delivery"
)

// numberFlags parses one value into a flag set with a flag of each kind
// the commands use, named as they name them, and checks it as parseFlags
// does.
func numberFlags(name, value string) (*flag.FlagSet, error) {
	fs := flag.NewFlagSet("fuzz", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Float64("time-scale", 1, "")
	fs.Int("connections", 512, "")
	fs.Int("parallel", 8, "")
	fs.Int("precision", 3, "")
	fs.Int("workers", 16, "")
	fs.Int64("max-requests", 0, "")
	fs.Duration("answer-timeout", 0, "")
	fs.Duration("duration", 0, "")
	fs.Duration("quiet", 0, "")
	var l listFlag
	fs.Var(&l, "set", "")
	if _, err := parseFlags(fs, []string{"--" + name, value}); err != nil {
		return fs, err
	}
	return fs, nil
}

// FuzzNumberFlags: whatever the value of a number, duration or list flag,
// parsing never panics, and a value that is accepted is finite and inside
// its flag's range; a refusal is a usage error naming the flag.
func FuzzNumberFlags(f *testing.F) {
	for _, seed := range []struct{ name, value string }{
		{"time-scale", "NaN"}, {"time-scale", "+Inf"}, {"time-scale", "1e308"}, {"time-scale", "0.0001"}, {"time-scale", "-0"},
		{"time-scale", "0x1p-30"}, {"connections", "1000000000"}, {"connections", "-1"}, {"parallel", "64"}, {"precision", "3"},
		{"workers", "0"}, {"max-requests", "9223372036854775807"}, {"answer-timeout", "-1ns"}, {"duration", "1000000h"},
		{"duration", "1.5s"}, {"quiet", "0"}, {"set", ""}, {"set", ","}, {"set", "a=1"},
	} {
		f.Add(seed.name, seed.value)
	}
	names := []string{"time-scale", "connections", "parallel", "precision", "workers", "max-requests", "answer-timeout", "duration", "quiet", "set"}
	f.Fuzz(func(t *testing.T, name, value string) {
		known := false
		for _, n := range names {
			known = known || n == name
		}
		if !known {
			name = names[len(value)%len(names)]
		}
		fs, err := numberFlags(name, value)
		if err != nil {
			if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "-"+name) {
				t.Fatalf("--%s %q: %v (exit %d)", name, value, err, ExitCode(err))
			}
			return
		}
		if l, ok := fs.Lookup(name).Value.(*listFlag); ok {
			if len(*l) == 0 {
				t.Fatalf("--%s %q accepted as an empty list", name, value)
			}
			return
		}
		got := fs.Lookup(name).Value.(flag.Getter).Get()
		switch v := got.(type) {
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) || v < minTimeScale || v > maxTimeScale {
				t.Fatalf("--%s %q accepted as %v", name, value, v)
			}
		case int:
			if b := intBounds[name]; float64(v) < b.min || float64(v) > b.max {
				t.Fatalf("--%s %q accepted as %d", name, value, v)
			}
		case int64:
			if b := intBounds[name]; float64(v) < b.min || float64(v) > b.max {
				t.Fatalf("--%s %q accepted as %d", name, value, v)
			}
		case time.Duration:
			b, ok := durationBounds[name]
			if !ok {
				b.max = maxFlagDuration
			}
			if v < b.min || v > b.max {
				t.Fatalf("--%s %q accepted as %s", name, value, v)
			}
		}
	})
}

// FuzzParseRate: --rate never panics, and an accepted rate is finite and
// within 1/h and 10000000/s (0 for max).
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"max", "2000", "2000/s", "300/m", "1/h", "NaN", "Inf", "1e308", "1e-300", "0", "-5", "5/d", "1/h/s", "", "0x10", "1_000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseRate(s)
		if err != nil {
			if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "--rate") {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if s == "max" {
			return
		}
		if math.IsNaN(r) || math.IsInf(r, 0) || r < minRate*(1-1e-9) || r > maxRate {
			t.Fatalf("%q accepted as %g/s", s, r)
		}
	})
}

// FuzzParseShare: a percentage never panics, and an accepted one is a
// finite share from 0 to below 1.
func FuzzParseShare(f *testing.F) {
	for _, s := range []string{"0", "10%", "2.5%", "NaN%", "Inf%", "-5%", "100%", "99.999%", "1e308%", "10", "", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseShare("duplicates", s)
		if err != nil {
			if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "--duplicates") {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if math.IsNaN(v) || v < 0 || v >= 1 {
			t.Fatalf("%q accepted as %g", s, v)
		}
	})
}

// FuzzParseDelays: a --retry-delays list never panics, and an accepted
// one has at most MaxRetries delays, each from 0 to MaxDelay.
func FuzzParseDelays(f *testing.F) {
	for _, s := range []string{"30s,1m,5m", "none", "", "1s,,2s", "-1s", "1000000h", strings.Repeat("1s,", 101) + "1s", "9223372036854775807ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ds, err := delivery.ParseDelays(s)
		if err != nil {
			return
		}
		if len(ds) > delivery.MaxRetries {
			t.Fatalf("%q: %d delays", s, len(ds))
		}
		for _, d := range ds {
			if d < 0 || d > delivery.MaxDelay {
				t.Fatalf("%q: delay %s", s, d)
			}
		}
	})
}

// TestTrimFloat: small rates keep their significant digits.
func TestTrimFloat(t *testing.T) {
	for v, want := range map[float64]string{2000: "2000", 12.345: "12.3", 1: "1.0", 0: "0.0", 1.0 / 3600: "0.00028", 0.5: "0.5"} {
		if got := trimFloat(v); got != want {
			t.Errorf("trimFloat(%g) = %q, want %q", v, got, want)
		}
	}
}
