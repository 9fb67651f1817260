package sandboxapi

import (
	"testing"
	"time"
)

// TestTokenExpiry checks that expires_in is the token's lifetime in real
// seconds, rounded so that a client refreshing after expires_in never
// holds an expired token, and at least 1.
func TestTokenExpiry(t *testing.T) {
	for _, tc := range []struct {
		scale float64
		want  int
	}{{1, 3600}, {0.5, 1800}, {0.01, 36}, {0.001, 3}, {0.0001, 1}, {1e-6, 1}, {2, 7200}} {
		s := &Server{cfg: Config{TimeScale: tc.scale}}
		lifetime, expiresIn := s.tokenExpiry()
		if expiresIn != tc.want {
			t.Errorf("scale %v: expires_in %d, want %d", tc.scale, expiresIn, tc.want)
		}
		real := time.Duration(float64(lifetime) * tc.scale)
		if real < time.Duration(expiresIn)*time.Second-time.Microsecond {
			t.Errorf("scale %v: the token lives %v of real time, less than expires_in %d s", tc.scale, real, expiresIn)
		}
	}
}
