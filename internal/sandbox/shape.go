package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"
)

var (
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	timeType       = reflect.TypeFor[time.Time]()
	clusterType    = reflect.TypeFor[Cluster]()
)

// checkShape verifies that the JSON document fits the Go type of target
// (a pointer to a struct) before it is decoded, so that an unknown field or
// a value of the wrong type is reported with the path to it, for example
// `accounts["111122223333"].roles[0].tgas: unknown field`. encoding/json
// alone names neither the path of an unknown field nor all problems at once.
func checkShape(data []byte, target any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("not valid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("not valid JSON: unexpected data after the top-level value")
	}
	var errs []error
	walkShape("", doc, reflect.TypeOf(target).Elem(), &errs)
	return errors.Join(errs...)
}

func walkShape(path string, v any, t reflect.Type, errs *[]error) {
	fail := func(format string, args ...any) {
		p := path
		if p == "" {
			p = "fixture"
		}
		*errs = append(*errs, fmt.Errorf("%s: %s", p, fmt.Sprintf(format, args...)))
	}
	if v == nil {
		return // null leaves the Go value at its zero value, as encoding/json does
	}
	if t == rawMessageType {
		return
	}
	if t == timeType {
		s, ok := v.(string)
		if !ok {
			fail("must be an RFC 3339 time string, got %s", jsonKind(v))
			return
		}
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			fail("must be an RFC 3339 time (2024-01-01T00:00:00Z), got %q", s)
		}
		return
	}
	if _, name := v.(string); name && t == clusterType {
		return // a cluster may be given by its name alone
	}
	switch t.Kind() {
	case reflect.Pointer:
		walkShape(path, v, t.Elem(), errs)
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			fail("must be an object, got %s", jsonKind(v))
			return
		}
		fields := jsonFields(t)
		for _, k := range sortedKeys(obj) {
			p := k
			if path != "" {
				p = path + "." + k
			}
			ft, ok := fields[k]
			if !ok {
				msg := "unknown field"
				for name := range fields {
					if strings.EqualFold(name, k) {
						msg += fmt.Sprintf(" (did you mean %q?)", name)
					}
				}
				*errs = append(*errs, fmt.Errorf("%s: %s", p, msg))
				continue
			}
			walkShape(p, obj[k], ft, errs)
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			fail("must be an object, got %s", jsonKind(v))
			return
		}
		for _, k := range sortedKeys(obj) {
			walkShape(fmt.Sprintf("%s[%q]", path, k), obj[k], t.Elem(), errs)
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			fail("must be an array, got %s", jsonKind(v))
			return
		}
		for i, e := range arr {
			walkShape(fmt.Sprintf("%s[%d]", path, i), e, t.Elem(), errs)
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			fail("must be a string, got %s", jsonKind(v))
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			fail("must be true or false, got %s", jsonKind(v))
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, ok := v.(json.Number)
		if !ok {
			fail("must be an integer, got %s", jsonKind(v))
			return
		}
		if _, err := n.Int64(); err != nil {
			fail("must be an integer, got %s", n)
		}
	case reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			fail("must be a number, got %s", jsonKind(v))
		}
	default:
		fail("cannot be checked (Go type %s)", t)
	}
}

// jsonFields maps the JSON names of a struct's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	return fields
}

func jsonKind(v any) string {
	switch x := v.(type) {
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", x)
	}
}
