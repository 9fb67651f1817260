package sandboxapi

import (
	"context"
	"testing"

	"github.com/kycsim/kycsim/simulator/sandbox"
)

// TestCacheKeepsNewerVersion: a read that missed the cache puts what it
// read; when a write put a newer version meanwhile, the newer one stays.
func TestCacheKeepsNewerVersion(t *testing.T) {
	c := newCachingStore(nil, true)
	v := func(version int64, status string) *sandbox.Verification {
		return &sandbox.Verification{ID: "v-1", Product: "jumio-kyx", Status: status, State: []byte(`{"outcome":"` + status + `"}`), Version: version}
	}
	c.put(v(2, "PROCESSED")) // the write
	c.put(v(1, "INITIATED")) // the slower read of before it
	got, rec, err := c.view(context.Background(), "v-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 || got.Status != "PROCESSED" || rec.Outcome != "PROCESSED" {
		t.Errorf("cached version %d %s (record %q), want 2 PROCESSED", got.Version, got.Status, rec.Outcome)
	}
	c.put(v(3, "SESSION_EXPIRED"))
	if got, _, _ := c.view(context.Background(), "v-1"); got.Version != 3 {
		t.Errorf("cached version %d after a newer write, want 3", got.Version)
	}
}
