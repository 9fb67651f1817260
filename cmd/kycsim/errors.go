package main

import (
	"errors"
	"fmt"

	"github.com/kycsim/kycsim/spec"
)

// Exit codes, as the README documents them.
const (
	ExitOK     = 0 // the command did its job; a check passed
	ExitFailed = 1 // a check failed (an invalid payload, ...)
	ExitUsage  = 2 // the command line or an input file is wrong
	// ExitUnreachable is conform's code for a target that cannot be
	// reached at all.
	ExitUnreachable = 3
	// ExitIncomplete is conform's code for a run in which enforced cases
	// could not be observed (no probe): it proves nothing about them.
	ExitIncomplete = 4
	// ExitCapacity is conform's code for a run in which cases could not
	// be judged because the target had no room for kycsim's requests,
	// even after kycsim lowered its concurrency: a capacity finding, not
	// a conformance failure.
	ExitCapacity = 5
)

// usageError is a problem with how kycsim was invoked.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// capacityError says cases could not be judged for want of the target's
// capacity.
type capacityError struct{ n int }

func (e *capacityError) Error() string {
	return fmt.Sprintf("capacity: %d case(s) or scenario(s) not judged: the target had no room for kycsim's requests, even after kycsim lowered its concurrency (see the capacity finding)", e.n)
}

// failedError says a check failed; what failed was already printed.
type failedError struct{ what string }

func (e *failedError) Error() string { return e.what }

// ExitCode maps an error to the process exit code.
func ExitCode(err error) int {
	var ue *usageError
	var unk *spec.UnknownError
	var fe *failedError
	var unreach *unreachableError
	var incomplete *incompleteError
	var capacity *capacityError
	switch {
	case errors.As(err, &capacity):
		return ExitCapacity
	case errors.As(err, &unreach):
		return ExitUnreachable
	case errors.As(err, &incomplete):
		return ExitIncomplete
	case err == nil:
		return ExitOK
	case errors.As(err, &ue), errors.As(err, &unk):
		return ExitUsage
	case errors.As(err, &fe):
		return ExitFailed
	}
	return ExitFailed
}
