// Package apperr defines the few error codes Shelin uses. Domain packages return
// them (wrapped with %w where useful); the web layer maps them to HTTP in one place.
package apperr

import (
	"errors"
	"fmt"
)

// Code is one of a small, stable set of machine-readable error codes.
type Code string

const (
	Invalid             Code = "invalid"
	NotFound            Code = "not_found"
	Conflict            Code = "conflict"
	Forbidden           Code = "forbidden"
	Unauthorized        Code = "unauthorized"
	InsufficientStock   Code = "insufficient_stock"
	IdempotencyConflict Code = "idempotency_conflict"
	DayClosed           Code = "day_closed"
	RateLimited         Code = "rate_limited"
	Internal            Code = "internal"
)

// Error is an error a user can act on: a code, a human message and, when one
// input is at fault, the name of that field.
type Error struct {
	Code    Code
	Message string
	Field   string
	// Key and Args name the message in the web catalogue (web/i18n), so a
	// page or the tablet shows it in the reader's language; Message stays
	// the API's English text.
	Key  string
	Args []string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (field %s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// New returns an error with the given code and message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Field returns an invalid-input error naming the field at fault.
func Field(field, format string, args ...any) *Error {
	return &Error{Code: Invalid, Message: fmt.Sprintf(format, args...), Field: field}
}

// Say returns a copy of e that names its message in the catalogue.
func (e *Error) Say(key string, args ...string) *Error {
	c := *e
	c.Key, c.Args = key, args
	return &c
}

// WithField returns a copy of e naming field.
func (e *Error) WithField(field string) *Error {
	c := *e
	c.Field = field
	return &c
}

// NotFoundf is shorthand for a not_found error.
func NotFoundf(format string, args ...any) *Error { return New(NotFound, format, args...) }

// Conflictf is shorthand for a conflict error.
func Conflictf(format string, args ...any) *Error { return New(Conflict, format, args...) }

// As returns the *Error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// CodeOf returns the code of err, or Internal when err carries none.
func CodeOf(err error) Code {
	if e, ok := As(err); ok {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// FieldOf returns the field an error names, or "".
func FieldOf(err error) string {
	if e, ok := As(err); ok {
		return e.Field
	}
	return ""
}
