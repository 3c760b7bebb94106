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
		{"string does not equal number", `{"n":["5"]}`, `{"n":5}`, false},
		{"number by value", `{"n":[5]}`, `{"n":5.0}`, true},
		{"number differs", `{"n":[5]}`, `{"n":6}`, false},
		{"boolean", `{"b":[true]}`, `{"b":true}`, true},
		{"boolean differs", `{"b":[true]}`, `{"b":false}`, false},
		{"boolean not string", `{"b":[true]}`, `{"b":"true"}`, false},
		{"null", `{"v":[null]}`, `{"v":null}`, true},
		{"null not missing", `{"v":[null]}`, `{}`, false},
		{"null not empty string", `{"v":[null]}`, `{"v":""}`, false},
		{"empty string", `{"v":[""]}`, `{"v":""}`, true},

		// Several keys are ANDed.
		{"and all match", `{"source":["aws.ec2"],"detail-type":["X"]}`, `{"source":"aws.ec2","detail-type":"X"}`, true},
		{"and one fails", `{"source":["aws.ec2"],"detail-type":["X"]}`, `{"source":"aws.ec2","detail-type":"Y"}`, false},

		// Prefix, suffix, case, wildcard.
		{"prefix", `{"id":[{"prefix":"i-0"}]}`, `{"id":"i-0abc"}`, true},
		{"prefix fails", `{"id":[{"prefix":"i-0"}]}`, `{"id":"ami-0abc"}`, false},
		{"prefix on number", `{"id":[{"prefix":"1"}]}`, `{"id":123}`, false},
		{"suffix", `{"f":[{"suffix":".png"}]}`, `{"f":"a.png"}`, true},
		{"suffix fails", `{"f":[{"suffix":".png"}]}`, `{"f":"a.jpg"}`, false},
		{"equals-ignore-case", `{"s":[{"equals-ignore-case":"ABC"}]}`, `{"s":"aBc"}`, true},
		{"equals-ignore-case fails", `{"s":[{"equals-ignore-case":"ABC"}]}`, `{"s":"abd"}`, false},
		{"wildcard middle", `{"s":[{"wildcard":"arn:*:role/x"}]}`, `{"s":"arn:aws:iam::1:role/x"}`, true},
		{"wildcard several", `{"s":[{"wildcard":"a*b*c"}]}`, `{"s":"aXXbYYc"}`, true},
		{"wildcard overlap", `{"s":[{"wildcard":"ab*ba"}]}`, `{"s":"aba"}`, false},
		{"wildcard fails", `{"s":[{"wildcard":"a*b"}]}`, `{"s":"ac"}`, false},
		{"wildcard escaped star", `{"s":[{"wildcard":"a\\*"}]}`, `{"s":"a*"}`, true},
		{"wildcard escaped star literal only", `{"s":[{"wildcard":"a\\*"}]}`, `{"s":"ab"}`, false},

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

		// Anything-but.
		{"anything-but value", `{"s":[{"anything-but":"a"}]}`, `{"s":"b"}`, true},
		{"anything-but value equal", `{"s":[{"anything-but":"a"}]}`, `{"s":"a"}`, false},
		{"anything-but absent", `{"s":[{"anything-but":"a"}]}`, `{}`, false},
		{"anything-but list", `{"s":[{"anything-but":["a","b"]}]}`, `{"s":"c"}`, true},
		{"anything-but list hit", `{"s":[{"anything-but":["a","b"]}]}`, `{"s":"b"}`, false},
		{"anything-but number", `{"n":[{"anything-but":[1,2]}]}`, `{"n":3}`, true},
		{"anything-but number hit", `{"n":[{"anything-but":[1,2]}]}`, `{"n":2.0}`, false},
		{"anything-but prefix", `{"s":[{"anything-but":{"prefix":"aws."}}]}`, `{"s":"custom"}`, true},
		{"anything-but prefix hit", `{"s":[{"anything-but":{"prefix":"aws."}}]}`, `{"s":"aws.ec2"}`, false},
		{"anything-but suffix hit", `{"s":[{"anything-but":{"suffix":"-dev"}}]}`, `{"s":"api-dev"}`, false},
		{"anything-but array one differs", `{"s":[{"anything-but":"a"}]}`, `{"s":["a","b"]}`, true},
		{"anything-but array all equal", `{"s":[{"anything-but":"a"}]}`, `{"s":["a","a"]}`, false},

		// Numeric.
		{"numeric range in", `{"n":[{"numeric":[">",0,"<=",5]}]}`, `{"n":5}`, true},
		{"numeric range out", `{"n":[{"numeric":[">",0,"<=",5]}]}`, `{"n":0}`, false},
		{"numeric equals", `{"n":[{"numeric":["=",1]}]}`, `{"n":1.0}`, true},
		{"numeric on string", `{"n":[{"numeric":[">=",1]}]}`, `{"n":"2"}`, false},
		{"numeric less", `{"n":[{"numeric":["<",1]}]}`, `{"n":-3}`, true},
		{"numeric greater-equal fails", `{"n":[{"numeric":[">=",1]}]}`, `{"n":0.5}`, false},

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
		{"unsupported operator", `{"ip":[{"cidr":"10.0.0.0/24"}]}`, `ip[0]: operator "cidr" is not supported`},
		{"or is unsupported", `{"$or":[{"a":["b"]}]}`, `operator "$or" is not supported`},
		{"two keys in operator", `{"s":[{"prefix":"a","suffix":"b"}]}`, "exactly one key"},
		{"prefix needs string", `{"s":[{"prefix":1}]}`, "prefix: argument must be a string, got number"},
		{"exists needs boolean", `{"s":[{"exists":"yes"}]}`, "exists: argument must be true or false"},
		{"array inside leaf", `{"s":[["a"]]}`, "unsupported matcher of type array"},
		{"anything-but empty list", `{"s":[{"anything-but":[]}]}`, "anything-but: empty list"},
		{"anything-but nested object in list", `{"s":[{"anything-but":[{"prefix":"a"}]}]}`, "list elements must be plain values"},
		{"anything-but unknown op", `{"s":[{"anything-but":{"wildcard":"a*"}}]}`, `operator "wildcard" is not supported`},
		{"numeric bad arity", `{"n":[{"numeric":[">"]}]}`, "numeric: argument must be"},
		{"numeric bad operator", `{"n":[{"numeric":["!=",1]}]}`, `numeric: unknown operator "!="`},
		{"numeric bad value", `{"n":[{"numeric":[">","1"]}]}`, "must be a number, got string"},
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
	_, err := Parse([]byte(`{"detail":{"requestParameters":{"x":[{"numeric":["<"]}]}}}`))
	if err == nil || !strings.Contains(err.Error(), "detail.requestParameters.x[0]") {
		t.Fatalf("error %v, want the field path detail.requestParameters.x[0]", err)
	}
}
