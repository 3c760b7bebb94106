package trust

import (
	"strings"
	"unicode/utf8"

	"github.com/credguard/credguard/internal/ids"
)

// globMatch reports whether s matches pattern, where * matches any run of
// characters (including none, and including ':') and ? exactly one character.
// With fold, ASCII letters compare case-insensitively.
func globMatch(pattern, s string, fold bool) bool {
	px, sx := 0, 0
	nextPx, nextSx := -1, -1
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				nextPx = px
				if sx < len(s) {
					_, size := utf8.DecodeRuneInString(s[sx:])
					nextSx = sx + size
				} else {
					nextSx = len(s) + 1
				}
				px++
				continue
			case '?':
				if sx < len(s) {
					_, size := utf8.DecodeRuneInString(s[sx:])
					px++
					sx += size
					continue
				}
			default:
				if sx < len(s) && byteEq(c, s[sx], fold) {
					px++
					sx++
					continue
				}
			}
		}
		if nextPx >= 0 && nextSx <= len(s) {
			px, sx = nextPx, nextSx
			continue
		}
		return false
	}
	return true
}

func byteEq(a, b byte, fold bool) bool {
	if a == b {
		return true
	}
	if !fold {
		return false
	}
	return lowerASCII(a) == lowerASCII(b)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// matchAll reports whether a wildcard pattern is made only of * and ? with
// at least one *: it matches every string of some length on, so it bounds
// nothing.
func matchAll(pattern string) bool {
	return strings.Contains(pattern, "*") && strings.Trim(pattern, "*?") == ""
}

// actionMatches reports whether a policy action pattern covers an action.
// Action names are case-insensitive in IAM.
func actionMatches(pattern, action string) bool {
	return globMatch(pattern, action, true)
}

// statementCovers reports whether the statement's Action/NotAction covers action.
func statementCovers(s *Statement, action string) bool {
	if s.NotAction != nil {
		for _, a := range s.NotAction {
			if actionMatches(a, action) {
				return false
			}
		}
		return true
	}
	for _, a := range s.Action {
		if actionMatches(a, action) {
			return true
		}
	}
	return false
}

// arnParts splits an ARN into its six parts: arn, partition, service, region,
// account, resource. ok is false when s is not shaped like an ARN.
func arnParts(s string) (parts [6]string, ok bool) {
	for i := 0; i < 5; i++ {
		j := strings.IndexByte(s, ':')
		if j < 0 {
			return parts, false
		}
		parts[i], s = s[:j], s[j+1:]
	}
	parts[5] = s
	return parts, parts[0] == "arn"
}

// arnMatch implements ArnEquals/ArnLike: each of the six parts of the pattern
// matches the corresponding part of the value, with * and ? wildcards. A
// pattern that is not ARN-shaped (for example "*") is matched as a whole.
func arnMatch(pattern, value string) bool {
	pp, pok := arnParts(pattern)
	if !pok {
		return globMatch(pattern, value, false)
	}
	vp, vok := arnParts(value)
	if !vok {
		return false
	}
	for i := range pp {
		if !globMatch(pp[i], vp[i], false) {
			return false
		}
	}
	return true
}

// accountOf returns the account of an AWS principal value: a 12-digit account
// id, or the account part of an ARN. root reports that the value names the
// whole account (an account id or arn:…:iam::ACCOUNT:root).
func accountOf(v string) (account string, root bool) {
	if ids.ValidAccount(v) {
		return v, true
	}
	p, ok := arnParts(v)
	if !ok {
		return "", false
	}
	return p[4], p[2] == "iam" && p[5] == "root"
}

// awsPrincipalMatches reports whether an AWS principal value in a policy
// covers the calling principal id (an account id or an IAM/STS ARN).
// An account (id or :root) covers every principal of that account; a role ARN
// covers that role's sessions (arn:…:sts::ACCOUNT:assumed-role/NAME/…).
func awsPrincipalMatches(pattern, id string) bool {
	if pattern == "*" {
		return true
	}
	if acct, root := accountOf(pattern); root {
		idAcct, _ := accountOf(id)
		return idAcct != "" && globMatch(acct, idAcct, false)
	}
	if globMatch(pattern, id, false) {
		return true
	}
	// A role ARN covers the sessions of that role.
	pp, ok := arnParts(pattern)
	ip, ok2 := arnParts(id)
	if !ok || !ok2 || pp[2] != "iam" || ip[2] != "sts" || !strings.HasPrefix(pp[5], "role/") ||
		!strings.HasPrefix(ip[5], "assumed-role/") {
		return false
	}
	roleName := pp[5][strings.LastIndexByte(pp[5], '/')+1:]
	session := strings.TrimPrefix(ip[5], "assumed-role/")
	slash := strings.IndexByte(session, '/')
	if slash < 0 {
		return false
	}
	return globMatch(pp[1], ip[1], false) && globMatch(pp[4], ip[4], false) &&
		globMatch(roleName, session[:slash], false)
}

// principalMatches reports whether a Principal element covers the caller.
// "*" and {"AWS": "*"} cover every caller (IAM documents the two as equal).
func principalMatches(p *Principal, id Identity) bool {
	if p.Any {
		return true
	}
	for _, e := range p.Entries {
		for _, v := range e.Values {
			if e.Type == AWS && v == "*" {
				return true
			}
			if e.Type != id.Type {
				continue
			}
			switch e.Type {
			case AWS:
				if awsPrincipalMatches(v, id.ID) {
					return true
				}
			case Service:
				if globMatch(v, id.ID, true) {
					return true
				}
			default: // Federated, CanonicalUser
				if globMatch(v, id.ID, false) {
					return true
				}
			}
		}
	}
	return false
}

// providerKind classifies a Federated principal value.
type providerKind uint8

const (
	provUnknown   providerKind = iota // an unrecognised name: treated as an OIDC issuer
	provWildcard                      // "*" or any value with a wildcard
	provOIDC                          // an IAM OIDC provider other than EKS and GitHub
	provEKS                           // an EKS cluster's OIDC provider (IRSA)
	provGitHub                        // token.actions.githubusercontent.com
	provPublicIdP                     // Cognito, Google, Facebook, Login with Amazon
	provSAML                          // an IAM SAML provider
)

// provider is a Federated principal value with what it means.
type provider struct {
	value  string
	kind   providerKind
	issuer string // the condition-key prefix: "<issuer>:sub", "<issuer>:aud"
	appKey string // for public IdPs: the key naming the application
}

var publicIdPs = map[string]string{
	"cognito-identity.amazonaws.com": "cognito-identity.amazonaws.com:aud",
	"accounts.google.com":            "accounts.google.com:aud",
	"graph.facebook.com":             "graph.facebook.com:app_id",
	"www.amazon.com":                 "www.amazon.com:app_id",
}

func classifyProvider(v string) provider {
	p := provider{value: v, issuer: v}
	if hasWildcard(v) {
		p.kind = provWildcard
		return p
	}
	if key, ok := publicIdPs[strings.ToLower(v)]; ok {
		p.kind, p.appKey = provPublicIdP, key
		return p
	}
	parts, ok := arnParts(v)
	if !ok || parts[2] != "iam" {
		p.kind = provUnknown
		return p
	}
	switch {
	case strings.HasPrefix(parts[5], "saml-provider/"):
		p.kind = provSAML
	case strings.HasPrefix(parts[5], "oidc-provider/"):
		p.issuer = strings.TrimPrefix(parts[5], "oidc-provider/")
		host := p.issuer
		if i := strings.IndexByte(host, '/'); i >= 0 {
			host = host[:i]
		}
		host = strings.ToLower(host)
		switch {
		case strings.HasPrefix(host, "oidc.eks.") && (strings.HasSuffix(host, ".amazonaws.com") || strings.HasSuffix(host, ".amazonaws.com.cn")):
			p.kind = provEKS
		case host == "token.actions.githubusercontent.com":
			p.kind = provGitHub
		default:
			p.kind = provOIDC
		}
	default:
		p.kind = provUnknown
	}
	return p
}

// oidcLike reports whether the provider federates through
// AssumeRoleWithWebIdentity with a subject ("sub") the trust policy must bound.
func (p provider) oidcLike() bool {
	switch p.kind {
	case provOIDC, provEKS, provGitHub, provUnknown:
		return true
	}
	return false
}
