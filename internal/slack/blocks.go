// Package slack delivers Credguard notifications to a Slack incoming webhook:
// it turns a Chatbot custom notification into Block Kit, posts it with
// bounded retries, reads the webhook URL from Secrets Manager, and handles
// the SNS events of the forwarder Lambda.
package slack

import (
	"fmt"
	"strings"

	"github.com/credguard/credguard/internal/notify"
)

// Block Kit limits (Slack reference: blocks, composition objects).
const (
	maxHeaderChars  = 150
	maxSectionChars = 3000
	maxFieldChars   = 2000
	maxFields       = 10
	maxContextItems = 10
	maxBlocks       = 50
	maxFallback     = 3000
)

// Text is a Block Kit text object.
type Text struct {
	Type  string `json:"type"` // plain_text | mrkdwn
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

// Block is one Block Kit layout block: header, section, context or divider.
type Block struct {
	Type     string `json:"type"`
	Text     *Text  `json:"text,omitempty"`
	Fields   []Text `json:"fields,omitempty"`
	Elements []Text `json:"elements,omitempty"`
}

// Payload is the JSON body of an incoming-webhook post. Text is the fallback
// shown in notifications and by clients without Block Kit.
type Payload struct {
	Text   string  `json:"text"`
	Blocks []Block `json:"blocks"`
}

func mrkdwn(s string) Text { return Text{Type: "mrkdwn", Text: s} }

func header(s string) Block {
	return Block{Type: "header", Text: &Text{Type: "plain_text", Text: cut(strings.Join(strings.Fields(s), " "), maxHeaderChars), Emoji: true}}
}

func section(s string) Block { t := mrkdwn(s); return Block{Type: "section", Text: &t} }

// esc escapes Slack's control characters in text from outside.
var esc = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// FromMessage lays out a Chatbot custom notification as Block Kit for a
// narrow screen, telling each fact once: the title as the header (what
// happened, to which resource, where); the description (each resource with
// its before → after, who did it, which event, why); the next steps (how to
// undo and how to exempt); and one context line with the severity and the
// keywords the header and description do not already show. There is no
// grid of fields: on a phone it wraps into a column that repeats the header.
// The exemption hint of the additional context is shown only when there are
// no next steps, which otherwise say how to exempt.
func FromMessage(m notify.Message) Payload {
	ctx := m.Metadata.AdditionalContext
	title := notify.Plain(m.Content.Title)
	if strings.TrimSpace(title) == "" {
		title = "Credguard notification"
	}
	blocks := []Block{header(title)}
	for _, chunk := range splitMarkup(m.Content.Description, maxSectionChars) {
		blocks = append(blocks, section(chunk))
	}
	if len(m.Content.NextSteps) > 0 {
		var b strings.Builder
		b.WriteString("*Next steps*")
		for _, s := range m.Content.NextSteps {
			b.WriteString("\n• ")
			b.WriteString(s)
		}
		for _, chunk := range splitMarkup(b.String(), maxSectionChars) {
			blocks = append(blocks, section(chunk))
		}
	}
	var notes []Text
	if e := ctx[notify.CtxExempt]; e != "" && len(m.Content.NextSteps) == 0 {
		notes = append(notes, mrkdwn(cut(esc(e), maxFieldChars)))
	}
	if tags := footer(m, title); tags != "" {
		notes = append(notes, mrkdwn(cut(esc(tags), maxFieldChars)))
	}
	if len(notes) > 0 {
		blocks = append(blocks, Block{Type: "context", Elements: notes})
	}
	return Payload{Text: cut(title, maxFallback), Blocks: capBlocks(blocks)}
}

// footer is the severity and the keywords, leaving out the account and
// region when the header or the description already shows them.
func footer(m notify.Message, title string) string {
	ctx := m.Metadata.AdditionalContext
	shown := title + "\n" + m.Content.Description
	var items []string
	if s := ctx[notify.CtxSeverity]; s != "" {
		items = append(items, "severity "+s)
	}
	for _, k := range m.Content.Keywords {
		if k == "" || (k == ctx[notify.CtxAccount] || k == ctx[notify.CtxRegion]) && strings.Contains(shown, k) {
			continue
		}
		items = append(items, k)
	}
	return strings.Join(items, " · ")
}

// PlainPayload shows a message that is not a Chatbot notification as text,
// rather than dropping it: the subject (or the topic's name) as the header
// and the body in code blocks.
func PlainPayload(subject, body, topicARN string) Payload {
	title := strings.TrimSpace(subject)
	if title == "" {
		name := topicARN[strings.LastIndex(topicARN, ":")+1:]
		if name == "" {
			name = "SNS"
		}
		title = "Message from " + name
	}
	blocks := []Block{header(title)}
	if strings.TrimSpace(body) == "" {
		blocks = append(blocks, section("_(empty message)_"))
	} else {
		text := "```\n" + esc(strings.ReplaceAll(body, "```", "'''")) + "\n```"
		for _, chunk := range splitMarkup(text, maxSectionChars) {
			blocks = append(blocks, section(chunk))
		}
	}
	return Payload{Text: cut(title, maxFallback), Blocks: capBlocks(blocks)}
}

// capBlocks keeps at most maxBlocks blocks, saying so in the last one.
func capBlocks(blocks []Block) []Block {
	if len(blocks) <= maxBlocks {
		return blocks
	}
	left := len(blocks) - (maxBlocks - 1)
	out := append([]Block(nil), blocks[:maxBlocks-1]...)
	return append(out, Block{Type: "context", Elements: []Text{mrkdwn(fmt.Sprintf("… %d more blocks left out (Slack shows at most %d)", left, maxBlocks))}})
}

// splitMarkup splits markup into chunks of at most n characters at line
// breaks (cutting lines that are too long on their own), closing and
// reopening a ``` code block that spans two chunks.
func splitMarkup(s string, n int) []string {
	const fence = "```"
	if strings.TrimSpace(s) == "" {
		return nil
	}
	maxLine := n - 2*len(fence) - 2 // a line always fits a chunk reopened inside a block
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		r := []rune(l)
		for len(r) > maxLine {
			at := entitySafeCut(r, maxLine)
			lines = append(lines, string(r[:at]))
			r = r[at:]
		}
		lines = append(lines, string(r))
	}
	var chunks []string
	var cur strings.Builder
	size := 0
	write := func(l string) {
		if size > 0 {
			cur.WriteByte('\n')
			size++
		}
		cur.WriteString(l)
		size += len([]rune(l))
	}
	inBlock := false
	for _, l := range lines {
		after := inBlock != (strings.TrimSpace(l) == fence)
		reserve := 0
		if after {
			reserve = len(fence) + 1 // to close the block at the end of the chunk
		}
		if size > 0 && size+1+len([]rune(l))+reserve > n {
			if inBlock {
				write(fence)
			}
			chunks = append(chunks, cur.String())
			cur.Reset()
			size = 0
			if inBlock {
				write(fence)
			}
		}
		write(l)
		inBlock = after
	}
	if size > 0 {
		if inBlock {
			write(fence)
		}
		chunks = append(chunks, cur.String())
	}
	return chunks
}

// entitySafeCut moves a cut at n back so that it does not split an escaped
// "&amp;", "&lt;" or "&gt;".
func entitySafeCut(r []rune, n int) int {
	for i := n - 1; i > 0 && i >= n-4; i-- {
		if r[i] == ';' {
			return n
		}
		if r[i] == '&' {
			return i
		}
	}
	return n
}

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// RenderBlocksText shows blocks as plain text, the way Slack lays them out,
// for terminals (make demo).
func RenderBlocksText(blocks []Block) string {
	var out []string
	for _, b := range blocks {
		var lines []string
		switch b.Type {
		case "header":
			if b.Text != nil {
				lines = append(lines, b.Text.Text, strings.Repeat("═", min(len([]rune(b.Text.Text)), 72)))
			}
		case "section":
			if b.Text != nil {
				lines = append(lines, notify.PlainMarkup(b.Text.Text))
			}
			for _, f := range b.Fields {
				label, value, _ := strings.Cut(notify.PlainMarkup(f.Text), "\n")
				lines = append(lines, label+": "+strings.ReplaceAll(value, "\n", " "))
			}
		case "context":
			var items []string
			for _, e := range b.Elements {
				items = append(items, notify.PlainMarkup(e.Text))
			}
			lines = append(lines, "ℹ "+strings.Join(items, " | "))
		case "divider":
			lines = append(lines, strings.Repeat("─", 40))
		}
		if len(lines) > 0 {
			out = append(out, strings.Join(lines, "\n"))
		}
	}
	return strings.Join(out, "\n\n") + "\n"
}
