package notify

import (
	"strings"
	"unicode/utf8"
)

// The description uses the markdown Chatbot passes to Slack ("client-markdown"):
// *bold*, `code`, ``` blocks on their own lines, and "• " bullets. Text that
// comes from outside (tags, role names, policy documents, error messages) goes
// through esc, code or prose so that it can neither format the message nor
// ping anyone (Slack reads "<!channel>" and "<url|text>").

var (
	escaper   = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	unescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")
)

// esc escapes the three characters Slack treats as control sequences.
func esc(s string) string { return escaper.Replace(s) }

// code shows s as inline code on one line.
func code(s string) string {
	if s == "" {
		return ""
	}
	s = strings.ReplaceAll(s, "`", "'")
	s = strings.Join(strings.Fields(s), " ")
	return "`" + esc(s) + "`"
}

// codeBlock shows lines as a preformatted block.
func codeBlock(lines []string) string {
	body := strings.ReplaceAll(strings.Join(lines, "\n"), "```", "'''")
	return "```\n" + esc(body) + "\n```"
}

// prose escapes free text and puts every word that Slack could read as
// formatting (`*`, `~`, backticks, leading or trailing `_`) in inline code, so
// `Principal "*"` stays readable and bolds nothing. Line breaks are kept.
func prose(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, line := range lines {
		words := strings.Fields(line)
		for j, w := range words {
			words[j] = proseWord(w)
		}
		lines[i] = strings.Join(words, " ")
	}
	return strings.Join(lines, "\n")
}

// proseWord escapes one word, putting its core (without surrounding
// brackets and punctuation) in inline code when Slack could read it as
// formatting: `{"AWS": "*"}` becomes {"AWS": `"*"`}.
func proseWord(w string) string {
	if !strings.ContainsAny(w, "*~`") && !strings.HasPrefix(w, "_") && !strings.HasSuffix(w, "_") {
		return esc(w)
	}
	core := strings.TrimLeft(w, "({[")
	lead := w[:len(w)-len(core)]
	core = strings.TrimRight(core, ")}],;:.!?")
	trail := w[len(lead)+len(core):]
	if core == "" {
		return code(w)
	}
	return esc(lead) + code(core) + esc(trail)
}

// truncate cuts s to at most n characters, ending with "…" when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return string([]rune(s)[:max(n, 0)])
	}
	return string([]rune(s)[:n-1]) + "…"
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// Plain turns one line of the description markup into plain text: bold
// markers, code backticks and code fences go, entities are decoded. Slack's
// header block, which takes plain text only, uses it.
func Plain(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "```" {
			continue
		}
		out = append(out, unescaper.Replace(strings.ReplaceAll(stripBold(line), "`", "")))
	}
	return strings.Join(out, "\n")
}

// stripBold removes the bold markers outside inline code. Every `*` outside
// code is a marker: text from outside with a `*` in it is always in code.
func stripBold(line string) string {
	var b strings.Builder
	inCode := false
	for _, r := range line {
		switch {
		case r == '`':
			inCode = !inCode
			b.WriteRune(r)
		case r == '*' && !inCode:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// PlainMarkup renders a block of description markup as plain text: bold
// markers dropped, code blocks indented by four spaces, entities decoded.
func PlainMarkup(s string) string {
	var out []string
	inBlock := false
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "```" {
			inBlock = !inBlock
			continue
		}
		if inBlock {
			out = append(out, "    "+unescaper.Replace(line))
			continue
		}
		out = append(out, unescaper.Replace(stripBold(line)))
	}
	return strings.Join(out, "\n")
}
