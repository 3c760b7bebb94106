package notify

import (
	"testing"

	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/imds"
)

func TestProse(t *testing.T) {
	tests := map[string]string{
		"plain words":                   "plain words",
		`Principal {"AWS": "*"} lets`:   "Principal {\"AWS\": `\"*\"`} lets",
		"sub system:serviceaccount:*:x": "sub `system:serviceaccount:*:x`",
		"a_b stays, _c_ is coded":       "a_b stays, `_c_` is coded",
		"<!channel> & co":               "&lt;!channel&gt; &amp; co",
		"two\nlines":                    "two\nlines",
		"~strike~":                      "`~strike~`",
		"(*)":                           "(`*`)",
		"*":                             "`*`",
		"tick`s":                        "`tick's`",
	}
	for in, want := range tests {
		if got := prose(in); got != want {
			t.Errorf("prose(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlain(t *testing.T) {
	tests := map[string]string{
		"*Account:* `111` &lt;x&gt;":     "Account: 111 <x>",
		"`\"*\"` stays a star":           `"*" stays a star`,
		"before\n```\ncode\n```\nafter":  "before\ncode\nafter",
		"&amp;lt; is shown as text &lt;": "&lt; is shown as text <",
	}
	for in, want := range tests {
		if got := Plain(in); got != want {
			t.Errorf("Plain(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRenderMarkupKeepsCodeBlocks(t *testing.T) {
	got := PlainMarkup("*Restore*\n```\naws iam x --p '{\"a\":\"*\"}' &amp;\n```\n*done*")
	want := "Restore\n    aws iam x --p '{\"a\":\"*\"}' &\ndone"
	if got != want {
		t.Errorf("PlainMarkup = %q, want %q", got, want)
	}
}

func TestTruncate(t *testing.T) {
	if got := truncate("héllo", 5); got != "héllo" {
		t.Errorf("got %q", got)
	}
	if got := truncate("héllo wörld", 5); got != "héll…" {
		t.Errorf("got %q", got)
	}
	if got := truncate("abc", 1); got != "a" {
		t.Errorf("got %q", got)
	}
}

func TestShellQuote(t *testing.T) {
	tests := map[string]string{
		"ci-deployer": "ci-deployer",
		"a+b=c,d.e@f": "a+b=c,d.e@f",
		`{"a":"b c"}`: `'{"a":"b c"}'`,
		"it's":        `'it'\''s'`,
		"":            "''",
		"$(rm -rf /)": "'$(rm -rf /)'",
	}
	for in, want := range tests {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIMDSSettings(t *testing.T) {
	tests := []struct {
		in          *guardrail.IMDSChange
		tokens, hop string
	}{
		{change(opts("optional", 2), opts("required", 1)), "optional", "2"},
		{noChange(imds.Options{HTTPTokens: "required", HopLimit: 3}), "required", "3"},
		{noChange(imds.Options{HTTPTokens: "weird"}), "TOKENS", "HOP_LIMIT"},
		{noChange(imds.Options{}), "TOKENS", "HOP_LIMIT"},
		{nil, "TOKENS", "HOP_LIMIT"},
	}
	for _, tt := range tests {
		tok, hop := imdsSettings(tt.in)
		if tok != tt.tokens || hop != tt.hop {
			t.Errorf("imdsSettings(%+v) = %q %q, want %q %q", tt.in, tok, hop, tt.tokens, tt.hop)
		}
	}
}
