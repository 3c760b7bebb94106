package pattern

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		event   string
		want    bool
	}{
		// Exact values.
		{"exact string", `{"source":["aws.ec2"]}`, `{"source":"aws.ec2"}`, true},
		{"exact string differs", `{"source":["aws.ec2"]}`, `{"source":"aws.iam"}`, false},
		{"exact is case sensitive", `{"source":["aws.ec2"]}`, `{"source":"AWS.EC2"}`, false},
		{"exact OR within array", `{"state":["pending","running"]}`, `{"state":"running"}`, true},
		{"exact OR none", `{"state":["pending","running"]}`, `{"state":"stopped"}`, false},
		{"missing field", `{"source":["aws.ec2"]}`, `{"detail":{}}`, false},
		{"empty string", `{"v":[""]}`, `{"v":""}`, true},
		{"string does not equal number", `{"n":["5"]}`, `{"n":5}`, false},
		{"string does not equal boolean", `{"b":["true"]}`, `{"b":true}`, false},
		{"string does not equal null", `{"v":["null"]}`, `{"v":null}`, false},

		// Several keys are ANDed.
		{"and all match", `{"source":["aws.ec2"],"detail-type":["X"]}`, `{"source":"aws.ec2","detail-type":"X"}`, true},
		{"and one fails", `{"source":["aws.ec2"],"detail-type":["X"]}`, `{"source":"aws.ec2","detail-type":"Y"}`, false},

		// Exists.
		{"exists true present", `{"e":[{"exists":true}]}`, `{"e":"x"}`, true},
		{"exists true null counts", `{"e":[{"exists":true}]}`, `{"e":null}`, true},
		{"exists true absent", `{"e":[{"exists":true}]}`, `{}`, false},
		{"exists false absent", `{"e":[{"exists":false}]}`, `{}`, true},
		{"exists false present", `{"e":[{"exists":false}]}`, `{"e":"AccessDenied"}`, false},
		{"exists false on object", `{"e":[{"exists":false}]}`, `{"e":{"a":1}}`, true},
		{"exists true on object", `{"e":[{"exists":true}]}`, `{"e":{"a":1}}`, false},
		{"exists false nested absent", `{"detail":{"errorCode":[{"exists":false}]}}`, `{"detail":{"eventName":"x"}}`, true},
		{"exists false nested present", `{"detail":{"errorCode":[{"exists":false}]}}`, `{"detail":{"errorCode":"Client.UnauthorizedOperation"}}`, false},
		{"nested exists false needs the parent", `{"detail":{"errorCode":[{"exists":false}]}}`, `{}`, false},

		// Nested objects.
		{"nested", `{"detail":{"state":["pending"]}}`, `{"detail":{"state":"pending","x":1}}`, true},
		{"nested differs", `{"detail":{"state":["pending"]}}`, `{"detail":{"state":"running"}}`, false},
		{"nested parent is a string", `{"detail":{"state":["pending"]}}`, `{"detail":"pending"}`, false},
		{"deeply nested", `{"a":{"b":{"c":["x"]}}}`, `{"a":{"b":{"c":"x"}}}`, true},
		{"deeply nested missing", `{"a":{"b":{"c":["x"]}}}`, `{"a":{"b":{}}}`, false},
		{"leaf pattern on object value", `{"a":["x"]}`, `{"a":{"b":"x"}}`, false},

		// Arrays in the event.
		{"event array any element", `{"resources":["arn:b"]}`, `{"resources":["arn:a","arn:b"]}`, true},
		{"event array no element", `{"resources":["arn:c"]}`, `{"resources":["arn:a","arn:b"]}`, false},
		{"event empty array", `{"resources":["arn:c"]}`, `{"resources":[]}`, false},
		{"event empty array does not exist", `{"resources":[{"exists":false}]}`, `{"resources":[]}`, true},
		{"event nested arrays", `{"v":["x"]}`, `{"v":[["y"],["x"]]}`, true},
		{"array of objects", `{"items":{"id":["i-2"]}}`, `{"items":[{"id":"i-1"},{"id":"i-2"}]}`, true},
		{"array of objects none", `{"items":{"id":["i-3"]}}`, `{"items":[{"id":"i-1"},{"id":"i-2"}]}`, false},
		// EventBridge flattens arrays of objects: fields may come from different elements.
		{"array of objects flattened", `{"items":{"a":["1"],"b":["2"]}}`, `{"items":[{"a":"1"},{"b":"2"}]}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.pattern))
			if err != nil {
				t.Fatalf("Parse(%s): %v", tt.pattern, err)
			}
			got, err := p.Match([]byte(tt.event))
			if err != nil {
				t.Fatalf("Match(%s): %v", tt.event, err)
			}
			if got != tt.want {
				t.Errorf("pattern %s, event %s: got %v, want %v", tt.pattern, tt.event, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		wantErr string
	}{
		{"not json", `{`, "parse pattern"},
		{"trailing data", `{} {}`, "trailing data"},
		{"not an object", `["a"]`, "must be a JSON object, got array"},
		{"empty pattern", `{}`, "pattern: empty object"},
		{"empty nested", `{"detail":{}}`, "detail: empty object"},
		{"scalar value", `{"source":"aws.ec2"}`, "source: value must be an array or an object, got string"},
		{"empty array", `{"source":[]}`, "source: empty array"},
		{"two keys in operator", `{"s":[{"exists":true,"prefix":"b"}]}`, "exactly one key"},
		{"exists needs boolean", `{"s":[{"exists":"yes"}]}`, "exists: argument must be true or false, got string"},
		{"array inside leaf", `{"s":[["a"]]}`, "unsupported matcher of type array"},

		// Outside the subset the rules use: a parse error, never a silent mismatch.
		{"or is unsupported", `{"$or":[{"a":["b"]}]}`, `operator "$or" is not supported`},
		{"nested or is unsupported", `{"detail":{"$or":[{"a":["b"]}]}}`, `detail.$or: operator "$or" is not supported`},
		{"exact number", `{"n":[5]}`, "n[0]: unsupported matcher of type number"},
		{"exact boolean", `{"b":[true]}`, "b[0]: unsupported matcher of type boolean"},
		{"exact null", `{"v":[null]}`, "v[0]: unsupported matcher of type null"},
		{"prefix", `{"s":[{"prefix":"i-0"}]}`, `s[0]: operator "prefix" is not supported`},
		{"suffix", `{"s":[{"suffix":".png"}]}`, `operator "suffix" is not supported`},
		{"equals-ignore-case", `{"s":[{"equals-ignore-case":"ABC"}]}`, `operator "equals-ignore-case" is not supported`},
		{"wildcard", `{"s":[{"wildcard":"a*b"}]}`, `operator "wildcard" is not supported`},
		{"anything-but", `{"s":[{"anything-but":"a"}]}`, `operator "anything-but" is not supported`},
		{"numeric", `{"n":[{"numeric":[">",0]}]}`, `operator "numeric" is not supported`},
		{"cidr", `{"ip":[{"cidr":"10.0.0.0/24"}]}`, `ip[0]: operator "cidr" is not supported`},
		{"unsupported after a supported value", `{"s":["a",{"prefix":"b"}]}`, `s[1]: operator "prefix" is not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.pattern))
			if err == nil {
				t.Fatalf("Parse(%s): no error, want one containing %q", tt.pattern, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse(%s) error %q, want it to contain %q", tt.pattern, err, tt.wantErr)
			}
		})
	}
}

func TestMatchRejectsNonObjectEvents(t *testing.T) {
	p, err := Parse([]byte(`{"source":["aws.ec2"]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []string{``, `[1]`, `"x"`, `{"a":1`, `{} []`} {
		if _, err := p.Match([]byte(ev)); err == nil {
			t.Errorf("Match(%q): no error", ev)
		}
	}
}

func TestPathInErrors(t *testing.T) {
	_, err := Parse([]byte(`{"detail":{"requestParameters":{"x":[{"prefix":"a"}]}}}`))
	if err == nil || !strings.Contains(err.Error(), "detail.requestParameters.x[0]") {
		t.Fatalf("error %v, want the field path detail.requestParameters.x[0]", err)
	}
}
