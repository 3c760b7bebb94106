package slack

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/credguard/credguard/internal/guardrail"
	"github.com/credguard/credguard/internal/imds"
	"github.com/credguard/credguard/internal/notify"
	"github.com/credguard/credguard/internal/outcome"
	"github.com/credguard/credguard/internal/trust"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func build(t *testing.T, inc notify.Incident) notify.Message {
	t.Helper()
	m, _, err := notify.Build(inc)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func bigTrustPolicy(n int) string {
	var st []string
	for i := range n {
		st = append(st, fmt.Sprintf(`{"Sid":"P%02d","Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"partner-%02d-0123456789abcdef0123456789"}}}`, i, i))
	}
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(st, ",") + `]}`
}

func mustPolicy(t *testing.T, doc string) trust.Policy {
	t.Helper()
	p, err := trust.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ptr[T any](v T) *T { return &v }

func incidents(t *testing.T) map[string]notify.Incident {
	return map[string]notify.Incident{
		"imds-remediated": {
			Guardrail: guardrail.IMDS, EventID: "7bf73129-1428-4cd3-a780-95db273d1602", EventName: "RunInstances",
			Account: "111122223333", Region: "eu-west-1", Actor: "arn:aws:sts::111122223333:assumed-role/developer/alice",
			Results: []guardrail.Result{{Resource: "i-0123456789abcdef0", Name: "web", Outcome: outcome.Remediated,
				IMDS: &guardrail.IMDSChange{
					Before: imds.Options{HTTPTokens: "optional", HopLimit: 2, HTTPEndpoint: "enabled"},
					After:  imds.Options{HTTPTokens: "required", HopLimit: 1, HTTPEndpoint: "enabled"}}}},
		},
		"imds-exempt-dry-run": {
			Guardrail: guardrail.IMDS, EventID: "0d7e5e8f-3b0a-4a38-9d55-4ad1c1b2e3f4", EventName: "RunInstances",
			Account: "444455556666", Region: "eu-central-1", Actor: "arn:aws:sts::444455556666:assumed-role/ci/pipeline", DryRun: true,
			Results: []guardrail.Result{
				{Resource: "i-0aaaaaaaaaaaaaaa1", Name: "batch-1", Outcome: outcome.DryRun, IMDS: &guardrail.IMDSChange{
					Before: imds.Options{HTTPTokens: "optional", HopLimit: 2, HTTPEndpoint: "enabled"},
					After:  imds.Options{HTTPTokens: "required", HopLimit: 1, HTTPEndpoint: "enabled"}}},
				{Resource: "i-0aaaaaaaaaaaaaaa2", Name: "batch-2", Outcome: outcome.Exempt, Detail: `tag credguard:exempt = "legacy agent, INC-4711"`,
					IMDS: &guardrail.IMDSChange{
						Before: imds.Options{HTTPTokens: "optional", HopLimit: 2, HTTPEndpoint: "enabled"},
						After:  imds.Options{HTTPTokens: "optional", HopLimit: 2, HTTPEndpoint: "enabled"}}},
			},
		},
		"trust-revoked-long": {
			Guardrail: guardrail.Trust, EventID: "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9", EventName: "UpdateAssumeRolePolicy",
			Account: "111122223333", Region: "us-east-1",
			Results: []guardrail.Result{{Resource: "arn:aws:iam::111122223333:role/partner-gateway", Name: "partner-gateway",
				Outcome: outcome.Revoked, Detail: `critical any-principal: Principal {"AWS": "*"}`,
				Trust: &guardrail.TrustChange{Verdict: trust.Critical, Before: mustPolicy(t, bigTrustPolicy(14)),
					After: ptr(mustPolicy(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`))}}},
		},
	}
}

func TestFromMessageGolden(t *testing.T) {
	cases := map[string]Payload{}
	for name, inc := range incidents(t) {
		cases[name] = FromMessage(build(t, inc))
	}
	cases["plain-text"] = PlainPayload("", "Disk almost full on <host> & friends\nsecond line", "arn:aws:sns:us-east-1:111122223333:credguard-notifications")
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			checkPayload(t, p)
			compareGolden(t, filepath.Join("testdata", name+".blocks.golden.txt"), []byte(RenderBlocksText(p.Blocks)))
		})
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./internal/slack -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test ./internal/slack -update after checking the change)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

// checkPayload asserts Slack's Block Kit limits.
func checkPayload(t *testing.T, p Payload) {
	t.Helper()
	if p.Text == "" {
		t.Error("no fallback text")
	}
	if len(p.Blocks) == 0 || len(p.Blocks) > maxBlocks {
		t.Errorf("%d blocks", len(p.Blocks))
	}
	for i, b := range p.Blocks {
		switch b.Type {
		case "header":
			if b.Text == nil || b.Text.Type != "plain_text" || runes(b.Text.Text) > maxHeaderChars || strings.Contains(b.Text.Text, "\n") {
				t.Errorf("block %d: bad header %+v", i, b.Text)
			}
		case "section":
			if b.Text == nil && len(b.Fields) == 0 {
				t.Errorf("block %d: empty section", i)
			}
			if b.Text != nil {
				if runes(b.Text.Text) > maxSectionChars {
					t.Errorf("block %d: section of %d characters", i, runes(b.Text.Text))
				}
				if strings.Count(b.Text.Text, "```")%2 != 0 {
					t.Errorf("block %d: unbalanced code block:\n%s", i, b.Text.Text)
				}
			}
			if len(b.Fields) > maxFields {
				t.Errorf("block %d: %d fields", i, len(b.Fields))
			}
			for _, f := range b.Fields {
				if runes(f.Text) > maxFieldChars {
					t.Errorf("block %d: field of %d characters", i, runes(f.Text))
				}
			}
		case "context":
			if len(b.Elements) == 0 || len(b.Elements) > maxContextItems {
				t.Errorf("block %d: %d context elements", i, len(b.Elements))
			}
		default:
			t.Errorf("block %d: unexpected type %q", i, b.Type)
		}
	}
	if _, err := json.Marshal(p); err != nil {
		t.Error(err)
	}
}

func runes(s string) int { return len([]rune(s)) }

func TestFromMessageLayout(t *testing.T) {
	m := build(t, incidents(t)["imds-remediated"])
	p := FromMessage(m)
	if p.Blocks[0].Type != "header" || p.Blocks[0].Text.Text != "IMDSv2 enforced on i-0123456789abcdef0 (web) in 111122223333/eu-west-1" {
		t.Errorf("header %+v", p.Blocks[0].Text)
	}
	if got := p.Blocks[1].Text.Text; got != m.Content.Description {
		t.Errorf("description block %q", got)
	}
	if got := p.Blocks[2].Text.Text; !strings.HasPrefix(got, "*Next steps*\n• ") {
		t.Errorf("next steps block %q", got)
	}
	last := p.Blocks[len(p.Blocks)-1]
	if len(p.Blocks) != 4 || last.Type != "context" || len(last.Elements) != 1 || last.Elements[0].Text != "severity warning · credguard · imds · remediated" {
		t.Errorf("%d blocks, last %+v", len(p.Blocks), last)
	}
	for _, b := range p.Blocks {
		if len(b.Fields) > 0 {
			t.Errorf("a grid of fields: %+v", b.Fields)
		}
	}
}

// countFact counts a fact where it is told, not where it is an argument
// of a command or part of an ARN.
func countFact(text, fact string) int {
	text = regexp.MustCompile(`arn:[^\s`+"`"+`]*`).ReplaceAllString(text, "")
	text = regexp.MustCompile("`[^`\n]* [^`\n]*`").ReplaceAllString(text, "") // commands
	text = regexp.MustCompile(`(?m)^    .*$`).ReplaceAllString(text, "")      // code blocks
	return strings.Count(text, fact)
}

// Every fact of a golden incident is shown once: the account, the region of
// an instance, the actor, the before → after and the exemption hint.
func TestFromMessageTellsEachFactOnce(t *testing.T) {
	for name, inc := range incidents(t) {
		text := RenderBlocksText(FromMessage(build(t, inc)).Blocks)
		facts := map[string]string{"account": inc.Account, "region": inc.Region, "exemption hint": "tag it credguard:exempt"}
		if inc.Guardrail == guardrail.Trust {
			facts["region"] = "" // IAM is global: the region is the event's, told once in the footer
		}
		if inc.Actor != "" {
			facts["actor"] = inc.Actor
		}
		for _, r := range inc.Results {
			if c := r.IMDS; c != nil && c.Changes() {
				facts["before → after"] = c.Before.String() + " → " + c.After.String()
			}
			if c := r.Trust; c != nil && c.After != nil {
				facts["statement counts"] = "1 added, 0 unchanged"
			}
		}
		for what, fact := range facts {
			if fact == "" {
				continue
			}
			n := strings.Count(strings.ReplaceAll(text, "`", ""), fact)
			if what == "account" || what == "region" {
				n = countFact(text, fact)
			}
			if n != 1 {
				t.Errorf("%s: the %s (%q) is shown %d times:\n%s", name, what, fact, n, text)
			}
		}
	}
}

func TestFromMessageEscapesContext(t *testing.T) {
	m := notify.Message{Version: "1.0", Source: "custom", Content: notify.Content{Title: "*t*", Keywords: []string{"<!channel> & x", strings.Repeat("9", 5000)}},
		Metadata: notify.Metadata{AdditionalContext: map[string]string{notify.CtxSeverity: "<!here>", notify.CtxExempt: "<!everyone>"}}}
	p := FromMessage(m)
	checkPayload(t, p)
	all, _ := json.Marshal(p)
	for _, bad := range []string{"<!channel>", "<!here>", "<!everyone>"} {
		if strings.Contains(string(all), bad) {
			t.Errorf("unescaped mention %s: %s", bad, all)
		}
	}
	if p.Blocks[0].Text.Text != "t" {
		t.Errorf("header %q", p.Blocks[0].Text.Text)
	}
	if last := p.Blocks[len(p.Blocks)-1]; len(last.Elements) != 2 || !strings.Contains(last.Elements[0].Text, "&lt;!everyone&gt;") {
		t.Errorf("without next steps the context shows the exemption hint: %+v", last)
	}
}

func TestFromMessageWithoutTitle(t *testing.T) {
	p := FromMessage(notify.Message{Version: "1.0", Source: "custom", Content: notify.Content{Description: "only a body"}})
	checkPayload(t, p)
	if p.Blocks[0].Text.Text != "Credguard notification" || p.Blocks[1].Text.Text != "only a body" || len(p.Blocks) != 2 {
		t.Errorf("blocks %+v", p.Blocks)
	}
}

func TestPlainPayload(t *testing.T) {
	p := PlainPayload("Alarm: disk", "", "arn:aws:sns:us-east-1:1:t")
	checkPayload(t, p)
	if p.Blocks[0].Text.Text != "Alarm: disk" || p.Blocks[1].Text.Text != "_(empty message)_" {
		t.Errorf("blocks %+v", p.Blocks)
	}
	p = PlainPayload("", "x", "")
	if p.Blocks[0].Text.Text != "Message from SNS" {
		t.Errorf("header %q", p.Blocks[0].Text.Text)
	}
	huge := strings.Repeat(strings.Repeat("y", 99)+"\n", 3000) // 300 KB
	p = PlainPayload("", huge, "arn:aws:sns:us-east-1:1:topic")
	checkPayload(t, p)
	last := p.Blocks[len(p.Blocks)-1]
	if len(p.Blocks) != maxBlocks || last.Type != "context" || !strings.Contains(last.Elements[0].Text, "more blocks left out") {
		t.Errorf("%d blocks, last %+v", len(p.Blocks), last)
	}
}

func TestSplitMarkup(t *testing.T) {
	long := strings.Repeat("word ", 30)
	tests := map[string]struct {
		in   string
		n    int
		want []string
	}{
		"empty":  {"  \n", 50, nil},
		"fits":   {"a\nb", 50, []string{"a\nb"}},
		"lines":  {"aaaa\nbbbb\ncccc", 12, []string{"aaaa\nbbbb", "cccc"}},
		"block":  {"x\n```\n111111\n222222\n```\ny", 16, []string{"x\n```\n111111\n```", "```\n222222\n```\ny"}},
		"cut":    {strings.Repeat("z", 25), 16, []string{"zzzzzzzz", "zzzzzzzz", "zzzzzzzz\nz"}},
		"closes": {"```\nopen", 50, []string{"```\nopen\n```"}},
		"entity": {"abcdef&amp;xyz", 16, []string{"abcdef\n&amp;xyz"}},
	}
	for name, tt := range tests {
		got := splitMarkup(tt.in, tt.n)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("%s: splitMarkup = %q, want %q", name, got, tt.want)
		}
		for _, c := range got {
			if runes(c) > tt.n || strings.Count(c, "```")%2 != 0 {
				t.Errorf("%s: chunk %q breaks the limit or a block", name, c)
			}
		}
	}
	// Content survives: joining the chunks without the added fences gives
	// the input back.
	in := "head\n```\n" + strings.Repeat(long+"\n", 40) + "```\ntail"
	chunks := splitMarkup(in, 300)
	joined := strings.ReplaceAll(strings.Join(chunks, "\n"), "```\n```\n", "")
	if joined != in {
		t.Errorf("content changed by splitting:\n%s", joined)
	}
}

func TestRenderBlocksText(t *testing.T) {
	got := RenderBlocksText([]Block{
		header("Title"),
		{Type: "section", Fields: []Text{mrkdwn("*Account*\n`1`"), mrkdwn("*Region*\neu")}},
		section("*bold* `code` &lt;x&gt;"),
		{Type: "divider"},
		{Type: "context", Elements: []Text{mrkdwn("a"), mrkdwn("b")}},
	})
	want := "Title\n═════\n\nAccount: `1`\nRegion: eu\n\nbold `code` <x>\n\n" + strings.Repeat("─", 40) + "\n\nℹ a | b\n"
	if got != want {
		t.Errorf("RenderBlocksText =\n%q\nwant\n%q", got, want)
	}
}
