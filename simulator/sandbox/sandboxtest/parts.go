package sandboxtest

import (
	"bytes"
	"context"
	"testing"

	"github.com/kycsim/kycsim/simulator/sandbox"
)

// partTests are the behaviours of a Store's PartStore.
var partTests = []struct {
	name string
	fn   func(t *testing.T, s sandbox.Store)
}{
	{"PartRoundTrip", testPartRoundTrip},
	{"PartReplaced", testPartReplaced},
	{"PartOfNoVerification", testPartOfNoVerification},
	{"PartInvalid", testPartInvalid},
}

func testPartRoundTrip(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	if err := s.CreateVerification(ctx, NewVerification("wp-1")); err != nil {
		t.Fatal(err)
	}
	// Every byte value, so that a store that keeps text would show it.
	data := make([]byte, 512)
	for i := range data {
		data[i] = byte(i)
	}
	p := &sandbox.Part{VerificationID: "wp-1", CredentialID: "cred-1", Classifier: "FRONT", ContentType: "image/png", Data: data}
	if err := s.PutPart(ctx, p); err != nil {
		t.Fatal(err)
	}
	if p.CreatedAt.IsZero() {
		t.Error("PutPart left CreatedAt zero")
	}
	got, err := s.Part(ctx, "wp-1", "cred-1", "FRONT")
	if err != nil {
		t.Fatal(err)
	}
	if got.ContentType != "image/png" || !bytes.Equal(got.Data, data) || !got.CreatedAt.Equal(p.CreatedAt) {
		t.Errorf("read back %s, %d bytes, %v; want image/png, the 512 bytes written, %v", got.ContentType, len(got.Data), got.CreatedAt, p.CreatedAt)
	}
	for _, tc := range [][3]string{{"wp-1", "cred-1", "BACK"}, {"wp-1", "cred-2", "FRONT"}, {"wp-2", "cred-1", "FRONT"}} {
		_, err := s.Part(ctx, tc[0], tc[1], tc[2])
		wantCode(t, err, sandbox.ENOTFOUND, "part", tc[0], tc[1], tc[2])
	}
}

func testPartReplaced(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	if err := s.CreateVerification(ctx, NewVerification("wp-1")); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"first", "second"} {
		p := &sandbox.Part{VerificationID: "wp-1", CredentialID: "cred-1", Classifier: "FACE", ContentType: "image/jpeg", Data: []byte(d)}
		if err := s.PutPart(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Part(ctx, "wp-1", "cred-1", "FACE")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Data) != "second" {
		t.Errorf("after a second upload the part holds %q, want the second", got.Data)
	}
}

func testPartOfNoVerification(t *testing.T, s sandbox.Store) {
	err := s.PutPart(context.Background(), &sandbox.Part{VerificationID: "nope", CredentialID: "c", Classifier: "FRONT", ContentType: "image/png", Data: []byte{1}})
	wantCode(t, err, sandbox.ENOTFOUND, "part of an unknown verification")
}

func testPartInvalid(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	if err := s.CreateVerification(ctx, NewVerification("wp-1")); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]*sandbox.Part{
		"no classifier":   {VerificationID: "wp-1", CredentialID: "c", ContentType: "image/png", Data: []byte{1}},
		"no content type": {VerificationID: "wp-1", CredentialID: "c", Classifier: "FRONT", Data: []byte{1}},
		"empty":           {VerificationID: "wp-1", CredentialID: "c", Classifier: "FRONT", ContentType: "image/png"},
		"too large":       {VerificationID: "wp-1", CredentialID: "c", Classifier: "FRONT", ContentType: "image/png", Data: make([]byte, sandbox.MaxPartBytes+1)},
	} {
		wantCode(t, s.PutPart(ctx, p), sandbox.EINVALID, name)
	}
}
