package sandbox

import (
	"errors"
	"fmt"
)

// The error codes of the sandbox's domain. The HTTP layer maps each to one
// status in one place (ENOTFOUND → 404, ECONFLICT and ETAKEN → 409,
// EINVALID → 400, anything else → 500).
const (
	// ENOTFOUND is a verification or delivery that does not exist.
	ENOTFOUND = "not_found"
	// ECONFLICT is a write that lost to another: an id taken, a stale
	// verification version, a delivery lease no longer held.
	ECONFLICT = "conflict"
	// ETAKEN is a write of a value that must be unique and another
	// verification holds (a Sumsub applicant's externalUserId). Unlike
	// ECONFLICT, trying again cannot help.
	ETAKEN = "taken"
	// EINVALID is a value the store refuses to write.
	EINVALID = "invalid"
	// EINTERNAL is every other failure.
	EINTERNAL = "internal"
)

// ErrForeignDatabase is the error of opening a database that holds
// tables the sandbox did not make (another application's, which
// migrating would extend): the stores refuse it, wrapping this error.
var ErrForeignDatabase = errors.New("the database holds tables that are not the sandbox's")

// Error is a domain error: a code a caller can act on and a message a
// person can read. Errors from the technology below (SQL, I/O) are not
// Errors and count as EINTERNAL.
type Error struct {
	Code    string
	Message string
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("sandbox: %s", e.Message) }

// Errorf returns an Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first Error in err's chain: "" for a
// nil err, EINTERNAL when the chain holds no Error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first Error in err's chain, or
// "internal error" when it holds none (the details of an internal error
// are for the log, not for an API answer).
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
