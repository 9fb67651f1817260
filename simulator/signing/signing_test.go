package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
)

// TestSignKnownAnswers pins digests computed independently (openssl dgst
// -hmac) for one body under each algorithm.
func TestSignKnownAnswers(t *testing.T) {
	body := []byte(`{"applicantId":"5cb56e8e0a975a35f333cb83","type":"applicantReviewed"}`)
	for _, tt := range []struct {
		alg  Algorithm
		want string
	}{
		{SHA1, "03b60094e3b6d44bc64d1e20e0778bcca9220562"},
		{SHA256, "f05b254ef724f0350b7f072bb6c83fb8765e801d407442c8082143be7d69403d"},
		{SHA512, "90bc436b04122387c226b391cdb218ad80c7e1949bb4152d6ab52cb5551cb294675c9814e9f9cc1e309308f8b2cba7d39306b8e0783a0d14564ae1f72a04d1b3"},
	} {
		got, err := Sign(tt.alg, "s3cr3t", body)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("%s: %s, want %s", tt.alg, got, tt.want)
		}
	}
}

func TestVerify(t *testing.T) {
	body := []byte("payload")
	d, err := Sign(SHA512, "k", body)
	if err != nil {
		t.Fatal(err)
	}
	upper := []byte(d)
	for i, c := range upper {
		if c >= 'a' && c <= 'f' {
			upper[i] = c - 'a' + 'A'
		}
	}
	for _, tt := range []struct {
		name   string
		alg    Algorithm
		secret string
		body   string
		digest string
		want   bool
	}{
		{"good", SHA512, "k", "payload", d, true},
		{"upper-case hex", SHA512, "k", "payload", string(upper), true},
		{"wrong secret", SHA512, "x", "payload", d, false},
		{"tampered body", SHA512, "k", "payload ", d, false},
		{"wrong algorithm", SHA256, "k", "payload", d, false},
		{"unknown algorithm", Algorithm("HMAC_MD5_HEX"), "k", "payload", d, false},
		{"not hex", SHA512, "k", "payload", "zz" + d[2:], false},
		{"empty", SHA512, "k", "payload", "", false},
		{"truncated", SHA512, "k", "payload", d[:len(d)-2], false},
	} {
		if got := Verify(tt.alg, tt.secret, []byte(tt.body), tt.digest); got != tt.want {
			t.Errorf("%s: Verify = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestParseAlgorithm(t *testing.T) {
	for in, want := range map[string]Algorithm{"HMAC_SHA1_HEX": SHA1, "hmac_sha256_hex": SHA256, "HMAC_SHA512_HEX": SHA512} {
		got, err := ParseAlgorithm(in)
		if err != nil || got != want {
			t.Errorf("ParseAlgorithm(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "SHA256", "HMAC_MD5_HEX"} {
		if _, err := ParseAlgorithm(in); err == nil {
			t.Errorf("ParseAlgorithm(%q) accepted", in)
		}
	}
}

// TestSignReusesStatesSafely signs concurrently with more secrets than the
// cache keeps and checks every digest against a fresh HMAC.
func TestSignReusesStatesSafely(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2 * macCacheSize {
				secret := fmt.Sprintf("secret-%d", i)
				body := []byte(fmt.Sprintf("body %d %d", g, i))
				got, err := Sign(SHA256, secret, body)
				if err != nil {
					t.Error(err)
					return
				}
				m := hmac.New(sha256.New, []byte(secret))
				m.Write(body)
				if want := hex.EncodeToString(m.Sum(nil)); got != want {
					t.Errorf("secret %s: %s, want %s", secret, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}
