package sandboxapi

import (
	"context"
	"sync"
	"time"

	"github.com/kycsim/kycsim/simulator/sandbox"
)

// maxCached bounds the verifications the read cache holds; when it is
// full it starts again empty.
const maxCached = 100000

// cachingStore is a Store that keeps the verifications this process wrote
// or read, decoded, for the retrieval APIs: the sandbox is the only
// writer of its verifications (its SQLite database belongs to one
// process), so every change passes through here. Deliveries are not
// cached.
type cachingStore struct {
	sandbox.Store
	// on is false for a Store other replicas write too: every read goes
	// to the Store.
	on    bool
	mu    sync.RWMutex
	items map[string]cached
}

// cached is a verification and its decoded record (read-only); rec is
// decoded at the first read, not at every write: most verifications are
// written more often than they are read.
type cached struct {
	v   *sandbox.Verification
	rec *record
}

func newCachingStore(s sandbox.Store, on bool) *cachingStore {
	return &cachingStore{Store: s, on: on, items: map[string]cached{}}
}

// put caches a copy of a verification as written.
func (c *cachingStore) put(v *sandbox.Verification) {
	if !c.on {
		return
	}
	cp := *v
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.items[v.ID]; ok && old.v.Version > v.Version {
		// A read that missed is putting what it read after a write put
		// a newer version.
		return
	}
	if len(c.items) >= maxCached {
		c.items = map[string]cached{}
	}
	c.items[v.ID] = cached{v: &cp}
}

// decoded returns a cached verification's record, decoding it once.
func (c *cachingStore) decoded(it cached) (*sandbox.Verification, *record, error) {
	if it.rec != nil {
		return it.v, it.rec, nil
	}
	rec, err := readRecord(it.v)
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	if now, ok := c.items[it.v.ID]; ok && now.v == it.v {
		c.items[it.v.ID] = cached{v: it.v, rec: rec}
	}
	c.mu.Unlock()
	return it.v, rec, nil
}

// CreateVerification implements sandbox.Store.
func (c *cachingStore) CreateVerification(ctx context.Context, v *sandbox.Verification, enqueue ...*sandbox.Delivery) error {
	if err := c.Store.CreateVerification(ctx, v, enqueue...); err != nil {
		return err
	}
	c.put(v)
	return nil
}

// UpdateVerification implements sandbox.Store.
func (c *cachingStore) UpdateVerification(ctx context.Context, v *sandbox.Verification, enqueue ...*sandbox.Delivery) error {
	if err := c.Store.UpdateVerification(ctx, v, enqueue...); err != nil {
		if sandbox.ErrorCode(err) == sandbox.ECONFLICT {
			c.mu.Lock()
			delete(c.items, v.ID)
			c.mu.Unlock()
		}
		return err
	}
	c.put(v)
	return nil
}

// Verification implements sandbox.Store: a copy the caller may change.
func (c *cachingStore) Verification(ctx context.Context, id string) (*sandbox.Verification, error) {
	v, _, err := c.view(ctx, id)
	if err != nil {
		return nil, err
	}
	cp := *v
	return &cp, nil
}

// view returns a verification and its record, both read-only. A read of
// the Store is bounded by storeTimeout; a cached one needs no bound.
func (c *cachingStore) view(ctx context.Context, id string) (*sandbox.Verification, *record, error) {
	if c.on {
		c.mu.RLock()
		it, ok := c.items[id]
		c.mu.RUnlock()
		if ok {
			return c.decoded(it)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	v, err := c.Store.Verification(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	c.put(v)
	c.mu.RLock()
	it, ok := c.items[id]
	c.mu.RUnlock()
	if !ok {
		rec, err := readRecord(v)
		return v, rec, err
	}
	return c.decoded(it)
}

// answerCache keeps the encoded answers of the retrieval APIs, one per
// operation and verification, each good for one version of the
// verification and until its timeline next changes the status it
// reports: a retrieval polled in a loop is encoded once. The version
// comes from the Store at every request, so the cache is right on a
// shared Store too.
type answerCache struct {
	mu    sync.RWMutex
	items map[string]answer
}

type answer struct {
	version int64
	until   time.Time // zero: for as long as the version stands
	body    []byte
}

// get returns the answer cached for the key and version at now.
func (c *answerCache) get(key string, version int64, now time.Time) ([]byte, bool) {
	c.mu.RLock()
	a, ok := c.items[key]
	c.mu.RUnlock()
	if !ok || a.version != version || (!a.until.IsZero() && !now.Before(a.until)) {
		return nil, false
	}
	return a.body, true
}

// put caches an answer.
func (c *answerCache) put(key string, version int64, until time.Time, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.items == nil || len(c.items) >= maxCached {
		c.items = map[string]answer{}
	}
	c.items[key] = answer{version: version, until: until, body: body}
}
