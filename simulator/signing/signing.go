// Package signing computes and checks Sumsub webhook signatures: a
// lowercase hex HMAC of the exact body bytes, keyed with the webhook's
// secret, under the algorithm the X-Payload-Digest-Alg header names.
package signing

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"sync"
)

// The headers a signed Sumsub webhook carries.
const (
	DigestHeader    = "X-Payload-Digest"
	AlgorithmHeader = "X-Payload-Digest-Alg"
)

// Algorithm is a value of the X-Payload-Digest-Alg header.
type Algorithm string

// The algorithms Sumsub signs with; SHA256 is the default.
const (
	SHA1   Algorithm = "HMAC_SHA1_HEX"
	SHA256 Algorithm = "HMAC_SHA256_HEX"
	SHA512 Algorithm = "HMAC_SHA512_HEX"
)

// Algorithms lists the known algorithms, default first.
var Algorithms = []Algorithm{SHA256, SHA1, SHA512}

// ParseAlgorithm checks an algorithm name; the match ignores case.
func ParseAlgorithm(s string) (Algorithm, error) {
	for _, a := range Algorithms {
		if strings.EqualFold(s, string(a)) {
			return a, nil
		}
	}
	names := make([]string, len(Algorithms))
	for i, a := range Algorithms {
		names[i] = string(a)
	}
	return "", fmt.Errorf("unknown digest algorithm %q (known: %s)", s, strings.Join(names, ", "))
}

func (a Algorithm) hash() (func() hash.Hash, error) {
	switch a {
	case SHA1:
		return sha1.New, nil
	case SHA256:
		return sha256.New, nil
	case SHA512:
		return sha512.New, nil
	}
	return nil, fmt.Errorf("unknown digest algorithm %q", string(a))
}

// Sign returns the hex digest of body under the algorithm and secret.
func Sign(a Algorithm, secret string, body []byte) (string, error) {
	pool, err := macs(a, secret)
	if err != nil {
		return "", err
	}
	m := pool.Get().(hash.Hash)
	defer pool.Put(m)
	m.Reset()
	m.Write(body)
	var sum [sha512.Size]byte
	return hex.EncodeToString(m.Sum(sum[:0])), nil
}

// macCacheSize bounds how many (algorithm, secret) pairs keep keyed HMAC
// states for reuse; beyond it each signature keys a fresh one.
const macCacheSize = 64

type macKey struct {
	alg    Algorithm
	secret string
}

var (
	macMu    sync.Mutex
	macPools = map[macKey]*sync.Pool{}
)

// macs returns a pool of HMAC states keyed with the secret, so that
// signing many bodies does not key a new HMAC each time.
func macs(a Algorithm, secret string) (*sync.Pool, error) {
	h, err := a.hash()
	if err != nil {
		return nil, err
	}
	k := macKey{a, secret}
	macMu.Lock()
	defer macMu.Unlock()
	if p, ok := macPools[k]; ok {
		return p, nil
	}
	p := &sync.Pool{New: func() any { return hmac.New(h, []byte(secret)) }}
	if len(macPools) < macCacheSize {
		macPools[k] = p
	}
	return p, nil
}

// Verify reports whether digest is the signature of body under the
// algorithm and secret. It compares in constant time and accepts the hex
// digits in either case.
func Verify(a Algorithm, secret string, body []byte, digest string) bool {
	want, err := Sign(a, secret, body)
	if err != nil {
		return false
	}
	got, err := hex.DecodeString(digest)
	if err != nil {
		return false
	}
	w, _ := hex.DecodeString(want)
	return hmac.Equal(got, w)
}
