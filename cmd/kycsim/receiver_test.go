package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestReceiverCommand starts `kycsim receiver` on a free loopback port,
// sends it a KYX callback, reads the probe and stops it.
func TestReceiverCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	stderr := &lockedWriter{w: &strings.Builder{}}
	m := &Main{Stdin: strings.NewReader(""), Stdout: pw, Stderr: stderr}
	done := make(chan int, 1)
	go func() {
		done <- m.Run(ctx, []string{"receiver", "--addr", "127.0.0.1:0", "--secret", "s", "--no-fetch"})
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	if !sc.Scan() {
		t.Fatalf("no output; stderr: %s", stderr.String())
	}
	first := sc.Text()
	base, ok := strings.CutPrefix(first, "reference receiver on ")
	if !ok {
		t.Fatalf("first line %q", first)
	}
	go io.Copy(io.Discard, pr)
	body := readFile(t, samples+"jumio-kyx/processed.json")
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Post(base+"/jumio/kyx", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("callback answered %d", resp.StatusCode)
	}
	resp, err = client.Get(base + "/_probe/22222222-3333-4444-5555-666666666666")
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Events int    `json:"events"`
		Status string `json:"status"`
	}
	json.NewDecoder(resp.Body).Decode(&p)
	resp.Body.Close()
	if p.Events != 1 || p.Status != "PROCESSED" {
		t.Errorf("probe: %+v", p)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d; stderr: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the receiver did not stop")
	}
}

func TestReceiverUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"receiver", "--defect", "typo"}, `unknown defect "typo"`},
		{[]string{"receiver", "--allow", "127.0.0.999"}, "--allow"},
		{[]string{"receiver", "--jumio-invalid", "maybe"}, "unknown policy"},
		{[]string{"receiver", "--content-policy", "maybe"}, "unknown policy"},
		{[]string{"receiver", "--content-policy", "reject", "--jumio-invalid", "reject"}, "not also its older name"},
		{[]string{"receiver", "--addr", "127.0.0.1:99999"}, "--addr"},
		{[]string{"receiver", "extra"}, "unexpected argument"},
	} {
		code, _, stderr := run(t, "", tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}

// lockedWriter serialises writes from the server's goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.(*strings.Builder).String()
}
