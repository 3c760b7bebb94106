package event

import "errors"

// DecodeError is the error Decode returns. It unwraps to ErrMalformed or
// ErrUnsupported, so callers test the class with errors.Is and read the
// offending field from Field.
type DecodeError struct {
	// Class is ErrMalformed or ErrUnsupported.
	Class error
	// Field is the JSON path of the offending field (for example
	// "detail.responseElements.instancesSet.items[1].instanceId"); empty when
	// the error is about the input as a whole.
	Field string
	// Reason says what is wrong, in words.
	Reason string
}

func (e *DecodeError) Error() string {
	if e.Field == "" {
		return "decode event: " + e.Reason
	}
	return "decode event: " + e.Field + ": " + e.Reason
}

// Unwrap returns the error class (ErrMalformed or ErrUnsupported).
func (e *DecodeError) Unwrap() error { return e.Class }

func malformed(field, reason string) error {
	return &DecodeError{Class: ErrMalformed, Field: field, Reason: reason}
}

func unsupported(field, reason string) error {
	return &DecodeError{Class: ErrUnsupported, Field: field, Reason: reason}
}

// FieldOf returns the JSON path a decode error is about ("" if none or if err
// is not a *DecodeError).
func FieldOf(err error) string {
	var de *DecodeError
	if errors.As(err, &de) {
		return de.Field
	}
	return ""
}
