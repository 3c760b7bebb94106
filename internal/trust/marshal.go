package trust

// Marshal writes p as compact JSON. A statement whose fields are unchanged
// since Parse is written exactly as it was (compacted); others are written
// canonically: keys in the order Sid, Effect, Principal/NotPrincipal,
// Action/NotAction, Condition; a single value as a string, several as an array.
// It fails for a policy that is not valid trust-policy grammar.
func Marshal(p Policy) ([]byte, error) {
	if err := validate(p); err != nil {
		return nil, err
	}
	b := make([]byte, 0, 256)
	b = append(b, '{')
	sep := false
	if p.Version != "" {
		b = append(b, `"Version":`...)
		b = appendString(b, p.Version)
		sep = true
	}
	if p.ID != "" {
		if sep {
			b = append(b, ',')
		}
		b = append(b, `"Id":`...)
		b = appendString(b, p.ID)
		sep = true
	}
	if sep {
		b = append(b, ',')
	}
	b = append(b, `"Statement":`...)
	if p.statementObject && len(p.Statements) == 1 {
		b = appendStatementPreserving(b, &p.Statements[0])
	} else {
		b = append(b, '[')
		for i := range p.Statements {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendStatementPreserving(b, &p.Statements[i])
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

func appendStatementPreserving(b []byte, s *Statement) []byte {
	if s.raw != "" {
		start := len(b)
		b = appendStatement(b, s)
		if string(b[start:]) == s.sig {
			return append(b[:start], s.raw...)
		}
		return b
	}
	return appendStatement(b, s)
}

// appendStatement writes the canonical encoding of s.
func appendStatement(b []byte, s *Statement) []byte {
	b = append(b, '{')
	if s.Sid != "" {
		b = append(b, `"Sid":`...)
		b = appendString(b, s.Sid)
		b = append(b, ',')
	}
	b = append(b, `"Effect":`...)
	b = appendString(b, string(s.Effect))
	if s.Principal != nil {
		b = append(b, `,"Principal":`...)
		b = appendPrincipal(b, s.Principal)
	}
	if s.NotPrincipal != nil {
		b = append(b, `,"NotPrincipal":`...)
		b = appendPrincipal(b, s.NotPrincipal)
	}
	if s.Action != nil {
		b = append(b, `,"Action":`...)
		b = appendList(b, s.Action)
	}
	if s.NotAction != nil {
		b = append(b, `,"NotAction":`...)
		b = appendList(b, s.NotAction)
	}
	if len(s.Conditions) > 0 {
		b = append(b, `,"Condition":{`...)
		done := make([]bool, len(s.Conditions))
		firstOp := true
		for i, c := range s.Conditions {
			if done[i] {
				continue
			}
			if !firstOp {
				b = append(b, ',')
			}
			firstOp = false
			b = appendString(b, c.Operator)
			b = append(b, ":{"...)
			firstKey := true
			for j := i; j < len(s.Conditions); j++ {
				d := s.Conditions[j]
				if done[j] || d.Operator != c.Operator {
					continue
				}
				done[j] = true
				if !firstKey {
					b = append(b, ',')
				}
				firstKey = false
				b = appendString(b, d.Key)
				b = append(b, ':')
				b = appendList(b, d.Values)
			}
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendPrincipal(b []byte, p *Principal) []byte {
	if p.Any {
		return append(b, `"*"`...)
	}
	b = append(b, '{')
	for i, e := range p.Entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, string(e.Type))
		b = append(b, ':')
		b = appendList(b, e.Values)
	}
	return append(b, '}')
}

func appendList(b []byte, vals []string) []byte {
	if len(vals) == 1 {
		return appendString(b, vals[0])
	}
	b = append(b, '[')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, v)
	}
	return append(b, ']')
}

// appendString writes a JSON string escaping only what JSON requires, so the
// output is never longer than the input's own encoding (no HTML escaping).
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// String returns the statement's JSON, as Marshal would write it.
func (s Statement) String() string {
	return string(appendStatementPreserving(nil, &s))
}
