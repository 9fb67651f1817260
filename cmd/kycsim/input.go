package main

import (
	"fmt"
	"io"
	"os"

	"github.com/kycsim/kycsim/spec"
)

// maxInputFile bounds a file kycsim reads (a profile, a scenario, an
// AsyncAPI document, a --raw-body).
const maxInputFile = 4 << 20

// readCapped reads a file through a size cap on the reader, so that a
// device or a FIFO cannot make it read without end.
func readCapped(name string) ([]byte, error) {
	return readFileCapped(name, maxInputFile)
}

// readFileCapped reads at most limit bytes of a file: the cap is on the
// reader, not on the size the file reports, which a device (/dev/zero)
// or a FIFO does not know.
func readFileCapped(name string, limit int) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAllCapped(f, name, limit)
}

// readAllCapped reads r to its end, refusing more than limit bytes.
func readAllCapped(r io.Reader, name string, limit int) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(b) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, limit)
	}
	return b, nil
}

// readInput reads a payload: a file, or standard input for "-", capped at
// the callback body limit.
func (m *Main) readInput(name string) ([]byte, error) {
	if name == "-" {
		return readAllCapped(m.Stdin, "standard input", spec.MaxBodyBytes)
	}
	return readFileCapped(name, spec.MaxBodyBytes)
}
