package sandboxtest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kycsim/kycsim/simulator/sandbox"
)

// documentTests are the behaviours of a Store's documents (DocumentStore).
var documentTests = []struct {
	name string
	fn   func(t *testing.T, s sandbox.Store)
}{
	{"DocumentRoundTrip", testDocumentRoundTrip},
	{"DocumentUnknownVerification", testDocumentUnknownVerification},
	{"DocumentLimits", testDocumentLimits},
	{"DocumentDeactivate", testDocumentDeactivate},
}

// NewDocument returns a valid document numbered n of verification vid.
func NewDocument(vid string, n int) *sandbox.Document {
	return &sandbox.Document{
		VerificationID: vid,
		Metadata:       []byte(fmt.Sprintf(`{"idDocType":"PASSPORT","country":"DEU","n":%d}`, n)),
		FileName:       fmt.Sprintf("passport-%d.png", n), ContentType: "image/png",
		Content:   append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{byte(n)}, 100+n)...),
		CreatedAt: T0.Add(timeStep(n)),
	}
}

func testDocumentRoundTrip(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	if err := s.CreateVerification(ctx, NewVerification("wx-1")); err != nil {
		t.Fatal(err)
	}
	var added []*sandbox.Document
	for n := 1; n <= 3; n++ {
		d := NewDocument("wx-1", n)
		if err := s.AddDocument(ctx, d); err != nil {
			t.Fatal(err)
		}
		if d.ID <= 0 || (n > 1 && d.ID <= added[n-2].ID) {
			t.Errorf("document %d: ID %d, want increasing ids > 0", n, d.ID)
		}
		added = append(added, d)
	}
	// A document of metadata only keeps an empty content.
	bare := &sandbox.Document{VerificationID: "wx-1", Metadata: []byte(`{"idDocType":"SELFIE","country":"DEU"}`)}
	if err := s.AddDocument(ctx, bare); err != nil {
		t.Fatal(err)
	}
	if bare.CreatedAt.IsZero() {
		t.Error("a zero CreatedAt is not filled in")
	}
	for _, want := range added {
		got, err := s.Document(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkDocument(t, got, want, true)
	}
	if got, err := s.Document(ctx, bare.ID); err != nil || len(got.Content) != 0 {
		t.Errorf("metadata-only document: %v, %v", got, err)
	}
	list, err := s.Documents(ctx, "wx-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 4 {
		t.Fatalf("Documents = %d, want 4", len(list))
	}
	for i, want := range added {
		checkDocument(t, list[i], want, false)
		if len(list[i].Content) != 0 {
			t.Errorf("Documents returns content (%d bytes); it must not", len(list[i].Content))
		}
	}
	if list, err := s.Documents(ctx, "no-such"); err != nil || len(list) != 0 {
		t.Errorf("Documents of an unknown verification = %v, %v; want none", list, err)
	}
	_, err = s.Document(ctx, 1<<40)
	wantCode(t, err, sandbox.ENOTFOUND, "unknown document")
}

func testDocumentUnknownVerification(t *testing.T, s sandbox.Store) {
	err := s.AddDocument(context.Background(), NewDocument("no-such", 1))
	wantCode(t, err, sandbox.ENOTFOUND, "document of an unknown verification")
	err = s.AddDocument(context.Background(), &sandbox.Document{})
	wantCode(t, err, sandbox.EINVALID, "document without verification")
}

func testDocumentLimits(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	if err := s.CreateVerification(ctx, NewVerification("wx-1")); err != nil {
		t.Fatal(err)
	}
	big := NewDocument("wx-1", 1)
	big.Content = make([]byte, sandbox.MaxDocumentBytes+1)
	wantCode(t, s.AddDocument(ctx, big), sandbox.EINVALID, "document over MaxDocumentBytes")
	full := NewDocument("wx-1", 1)
	full.Content = make([]byte, sandbox.MaxDocumentBytes)
	if err := s.AddDocument(ctx, full); err != nil {
		t.Fatalf("document of MaxDocumentBytes: %v", err)
	}
	if got, err := s.Document(ctx, full.ID); err != nil || len(got.Content) != sandbox.MaxDocumentBytes {
		t.Fatalf("document of MaxDocumentBytes reads back with %d bytes, %v", len(got.Content), err)
	}
	for n := 2; n <= sandbox.MaxDocuments; n++ {
		if err := s.AddDocument(ctx, NewDocument("wx-1", n)); err != nil {
			t.Fatalf("document %d: %v", n, err)
		}
	}
	wantCode(t, s.AddDocument(ctx, NewDocument("wx-1", 0)), sandbox.EINVALID, "document over MaxDocuments")
}

func testDocumentDeactivate(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	for _, id := range []string{"wx-1", "wx-2"} {
		if err := s.CreateVerification(ctx, NewVerification(id)); err != nil {
			t.Fatal(err)
		}
		for n := 1; n <= 2; n++ {
			if err := s.AddDocument(ctx, NewDocument(id, n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n, err := s.DeactivateDocuments(ctx, "wx-1"); err != nil || n != 2 {
		t.Fatalf("DeactivateDocuments = %d, %v; want 2", n, err)
	}
	if n, err := s.DeactivateDocuments(ctx, "wx-1"); err != nil || n != 0 {
		t.Errorf("DeactivateDocuments again = %d, %v; want 0", n, err)
	}
	// A new upload after the reset is active.
	if err := s.AddDocument(ctx, NewDocument("wx-1", 3)); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string][]bool{"wx-1": {true, true, false}, "wx-2": {false, false}} {
		list, err := s.Documents(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != len(want) {
			t.Fatalf("%s: %d documents, want %d", id, len(list), len(want))
		}
		for i, d := range list {
			if d.Inactive != want[i] {
				t.Errorf("%s document %d: Inactive = %v, want %v", id, i, d.Inactive, want[i])
			}
		}
	}
}

func timeStep(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func checkDocument(t *testing.T, got, want *sandbox.Document, content bool) {
	t.Helper()
	if got.ID != want.ID || got.VerificationID != want.VerificationID || got.FileName != want.FileName ||
		got.ContentType != want.ContentType || got.Inactive != want.Inactive || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("document = %+v, want %+v", got, want)
	}
	if !jsonEqual(got.Metadata, want.Metadata) {
		t.Errorf("document %d metadata = %s, want %s", got.ID, got.Metadata, want.Metadata)
	}
	if content && !bytes.Equal(got.Content, want.Content) {
		t.Errorf("document %d content: %d bytes differ from the %d added", got.ID, len(got.Content), len(want.Content))
	}
}
