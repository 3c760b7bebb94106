package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// The decoder works on the generic JSON tree (map[string]any, []any, string,
// json.Number, bool, nil) so that every error can name the exact path of the
// field at fault, array indexes included, and so that fields CloudTrail writes
// in more than one form (number or string, PascalCase or camelCase) are read
// deliberately rather than by encoding/json's case-insensitive matching.

// parseJSON reads exactly one JSON value. Numbers stay json.Number.
func parseJSON(data []byte) (any, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, malformed("", "empty input")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, jsonError(err)
	}
	// Anything but whitespace after the value is an error, as with json.Unmarshal.
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			return nil, malformed("", fmt.Sprintf("invalid JSON at byte %d: data after the top-level value", dec.InputOffset()))
		}
		return nil, jsonError(err)
	}
	return v, nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return malformed("", "unexpected end of JSON input")
	case errors.As(err, &syn):
		return malformed("", fmt.Sprintf("invalid JSON at byte %d: %s", syn.Offset, syn.Error()))
	default:
		return malformed("", "invalid JSON: "+err.Error())
	}
}

// typeName names a JSON value's type for error messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	default:
		return fmt.Sprintf("%T", v)
	}
}

func wrongType(path, want string, got any) error {
	return malformed(path, fmt.Sprintf("want %s, got %s", want, typeName(got)))
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// object is a JSON object together with its path from the top of the event.
type object struct {
	path string
	m    map[string]any
}

// asObject checks that v is a JSON object.
func asObject(path string, v any) (object, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return object{}, wrongType(path, "object", v)
	}
	return object{path: path, m: m}, nil
}

// value returns the member key; a JSON null counts as absent.
func (o object) value(key string) (any, bool) {
	v, ok := o.m[key]
	if !ok || v == nil {
		return nil, false
	}
	return v, true
}

// str returns an optional string member ("" when absent or null).
func (o object) str(key string) (string, error) {
	v, ok := o.value(key)
	if !ok {
		return "", nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", wrongType(join(o.path, key), "string", v)
	}
	return s, nil
}

// required returns a string member that must be present and non-empty.
func (o object) required(key string) (string, error) {
	s, err := o.str(key)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", malformed(join(o.path, key), "missing")
	}
	return s, nil
}

// firstStr returns the first of keys that is present (CloudTrail writes some
// request members in PascalCase and some in camelCase), with its path.
func (o object) firstStr(keys ...string) (string, string, error) {
	for _, k := range keys {
		if _, ok := o.value(k); ok {
			s, err := o.str(k)
			return s, join(o.path, k), err
		}
	}
	return "", join(o.path, keys[0]), nil
}

// obj returns an optional object member; ok is false when absent or null.
func (o object) obj(key string) (object, bool, error) {
	v, ok := o.value(key)
	if !ok {
		return object{}, false, nil
	}
	child, err := asObject(join(o.path, key), v)
	if err != nil {
		return object{}, false, err
	}
	return child, true, nil
}

// requiredObj returns an object member that must be present.
func (o object) requiredObj(key string) (object, error) {
	child, ok, err := o.obj(key)
	if err != nil {
		return object{}, err
	}
	if !ok {
		return object{}, malformed(join(o.path, key), "missing")
	}
	return child, nil
}

// arr returns an optional array member.
func (o object) arr(key string) ([]any, bool, error) {
	v, ok := o.value(key)
	if !ok {
		return nil, false, nil
	}
	a, isArr := v.([]any)
	if !isArr {
		return nil, false, wrongType(join(o.path, key), "array", v)
	}
	return a, true, nil
}

// boolean returns an optional boolean member (CloudTrail sometimes writes
// booleans as "true"/"false" strings; both are accepted).
func (o object) boolean(key string) (bool, error) {
	v, ok := o.value(key)
	if !ok {
		return false, nil
	}
	switch b := v.(type) {
	case bool:
		return b, nil
	case string:
		if p, err := strconv.ParseBool(b); err == nil {
			return p, nil
		}
	}
	return false, wrongType(join(o.path, key), "boolean", v)
}

// integer reads the first present of keys as an integer written either as a
// JSON number or as a decimal string (CloudTrail uses both). ok is false when
// none is present.
func (o object) integer(keys ...string) (n int, path string, ok bool, err error) {
	for _, k := range keys {
		v, present := o.value(k)
		if !present {
			continue
		}
		path = join(o.path, k)
		var text string
		switch x := v.(type) {
		case json.Number:
			text = string(x)
		case string:
			text = x
		default:
			return 0, path, false, wrongType(path, "integer", v)
		}
		i, convErr := strconv.Atoi(text)
		if convErr != nil {
			return 0, path, false, malformed(path, fmt.Sprintf("want integer, got %q", text))
		}
		return i, path, true, nil
	}
	return 0, join(o.path, keys[0]), false, nil
}
