package jack

import (
	"errors"
	"fmt"
)

// Error codes shared by every part of Jack. The API maps each to one HTTP
// status and the client maps it back, so a caller can switch on the code
// wherever the error surfaced.
const (
	ECONFLICT     = "conflict"     // the action clashes with the current state (name taken, deploy running)
	EINTERNAL     = "internal"     // a fault inside Jack or one of its parts
	EINVALID      = "invalid"      // the input is wrong; the message says how
	ENOTFOUND     = "not_found"    // the named thing does not exist
	EUNAUTHORIZED = "unauthorized" // no token, or a wrong one
	EUNAVAILABLE  = "unavailable"  // a part Jack depends on (the Docker engine) does not answer
	EFAILED       = "failed"       // a long operation ran and failed (a deploy); the message says why
)

// Error is an error a user can act on: a code, and a one-line message that
// says what was wrong and what to do.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain; for
// other errors a generic message, since internal details are not for users.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error; see the server's log"
}
