package sandbox

import (
	"strings"
)

// ---- helpers shared by the EC2 operations (dispatched from server.go) ----

func ec2Error(code, format string, args ...any) *apiError {
	return newError(statusForCode(code), code, format, args...)
}

func invalidValue(format string, args ...any) *apiError {
	return ec2Error("InvalidParameterValue", format, args...)
}

// dryRun answers EC2's DryRun=true: the call would have succeeded.
func dryRun(r *request) *apiError {
	if r.p.bool("DryRun") {
		return ec2Error("DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
	}
	return nil
}

func (s *Server) ec2Region(r *request, create bool) *region {
	return s.world.accounts[r.account()].region(r.region, create)
}

func checkWord(name, got string, allowed ...string) *apiError {
	for _, a := range allowed {
		if got == a {
			return nil
		}
	}
	return invalidValue("Value (%s) for parameter %s is invalid. Valid values: %s.", got, name, strings.Join(allowed, ", "))
}

// checkMetadataWords checks the word-valued IMDS settings of an instance or
// a launch template (parameter names prefix + HttpTokens, …); "" is not set.
func checkMetadataWords(prefix, tokens, endpoint, ipv6, tags string) *apiError {
	for _, c := range []struct{ name, v, a, b string }{
		{"HttpTokens", tokens, "optional", "required"},
		{"HttpEndpoint", endpoint, "enabled", "disabled"},
		{"HttpProtocolIpv6", ipv6, "enabled", "disabled"},
		{"InstanceMetadataTags", tags, "enabled", "disabled"},
	} {
		if c.v != "" {
			if err := checkWord(prefix+c.name, c.v, c.a, c.b); err != nil {
				return err
			}
		}
	}
	return nil
}

// globMatch matches EC2 filter values: * any run of characters, ? one.
func globMatch(pattern, s string) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pattern) && (pattern[px] == '?' || pattern[px] == s[sx]):
			px++
			sx++
		case px < len(pattern) && pattern[px] == '*':
			starP, starS = px, sx
			px++
		case starP >= 0:
			px = starP + 1
			starS++
			sx = starS
		default:
			return false
		}
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}

func anyGlob(patterns []string, v string) bool {
	for _, p := range patterns {
		if globMatch(p, v) {
			return true
		}
	}
	return false
}

func tagFilter(f filter, tags map[string]string) (matched, handled bool) {
	if key, ok := strings.CutPrefix(f.name, "tag:"); ok {
		v, has := tags[key]
		return has && anyGlob(f.values, v), true
	}
	if f.name == "tag-key" {
		for k := range tags {
			if anyGlob(f.values, k) {
				return true, true
			}
		}
		return false, true
	}
	return false, false
}
