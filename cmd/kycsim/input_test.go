//go:build unix

package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// within runs f and fails the test if it has not returned before the
// deadline: a read that does not stop at its cap would hang here.
func within(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatalf("still reading after %s: the read is not capped", d)
	}
}

// endlessFIFO makes a FIFO in a temporary directory and a writer that
// feeds it without end until the reader goes away.
func endlessFIFO(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "payload")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		chunk := []byte(strings.Repeat("{", 64<<10))
		for {
			if _, err := f.Write(chunk); err != nil {
				return // the reader closed its end
			}
		}
	}()
	return path
}

// fifoWith makes a FIFO that carries data, then ends.
func fifoWith(t *testing.T, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "payload")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		_, _ = f.WriteString(data)
	}()
	return path
}

func TestReadCappedStopsAtTheCap(t *testing.T) {
	for _, name := range []string{"/dev/zero", "fifo"} {
		t.Run(name, func(t *testing.T) {
			// Each read gets its own input: a FIFO's writer stops when
			// its reader goes away.
			input := func() string {
				if name == "fifo" {
					return endlessFIFO(t)
				}
				return name
			}
			if _, err := os.Stat("/dev/zero"); err != nil && name != "fifo" {
				t.Skipf("no /dev/zero: %v", err)
			}
			path := input()
			within(t, 20*time.Second, func() {
				b, err := readFileCapped(path, 1<<16)
				if err == nil || !strings.Contains(err.Error(), "larger than 65536 bytes") {
					t.Errorf("readFileCapped(%s) = %d bytes, %v; want a larger-than error", path, len(b), err)
				}
			})
			path = input()
			within(t, 20*time.Second, func() {
				if _, err := readCapped(path); err == nil || !strings.Contains(err.Error(), "larger than") {
					t.Errorf("readCapped(%s): %v, want a larger-than error", path, err)
				}
			})
		})
	}
}

func TestReadCappedErrors(t *testing.T) {
	_, err := readCapped(filepath.Join(t.TempDir(), "missing.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want os.ErrNotExist", err)
	}
	if _, err := readCapped(t.TempDir()); err == nil || !strings.Contains(err.Error(), "read ") {
		t.Errorf("a directory: %v, want a read error naming it", err)
	}
	exact := filepath.Join(t.TempDir(), "exact")
	if err := os.WriteFile(exact, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := readFileCapped(exact, 5); err != nil || string(b) != "12345" {
		t.Errorf("a file of exactly the cap: %q, %v", b, err)
	}
	if _, err := readFileCapped(exact, 4); err == nil {
		t.Error("a file one byte over the cap was read")
	}
}

// TestValidateReadsDevicesCapped runs validate and --asyncapi on inputs
// that never end: each is refused as too large, promptly, as a usage
// error; a FIFO that carries a payload and ends is validated.
func TestValidateReadsDevicesCapped(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skipf("no /dev/zero: %v", err)
	}
	tests := []struct {
		name string
		args func(t *testing.T) []string
		code int
		out  string // substring of stdout or stderr
	}{
		{"payload /dev/zero", func(*testing.T) []string { return []string{"validate", "--product", "sumsub", "/dev/zero"} }, 2, "/dev/zero: larger than 1048576 bytes"},
		{"payload endless fifo", func(t *testing.T) []string {
			return []string{"validate", "--product", "jumio-kyx", endlessFIFO(t)}
		}, 2, "larger than 1048576 bytes"},
		{"asyncapi /dev/zero", func(*testing.T) []string { return []string{"validate", "--asyncapi", "/dev/zero", "-"} }, 2, "--asyncapi: /dev/zero: larger than"},
		{"spec asyncapi /dev/zero", func(*testing.T) []string { return []string{"spec", "list", "--asyncapi", "/dev/zero"} }, 2, "--asyncapi: /dev/zero: larger than"},
		{"payload fifo that ends", func(t *testing.T) []string {
			return []string{"validate", "--product", "jumio-kyx", fifoWith(t, readFile(t, samples+"jumio-kyx/processed.json"))}
		}, 0, "valid jumio-kyx PROCESSED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args(t)
			within(t, 30*time.Second, func() {
				code, out, errs := run(t, "", args...)
				if code != tt.code || !strings.Contains(out+errs, tt.out) {
					t.Errorf("exit %d, want %d with %q\nstdout: %s\nstderr: %s", code, tt.code, tt.out, out, errs)
				}
			})
		})
	}
}
