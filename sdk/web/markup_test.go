package web_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// parseFragment parses rendered content as the children of <main>.
func parseFragment(t *testing.T, s string) []*html.Node {
	t.Helper()
	ctx := &html.Node{Type: html.ElementNode, Data: "main", DataAtom: atom.Main}
	nodes, err := html.ParseFragment(strings.NewReader(s), ctx)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return nodes
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func walk(nodes []*html.Node, fn func(*html.Node)) {
	var rec func(*html.Node)
	rec = func(n *html.Node) {
		fn(n)
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c)
		}
	}
	for _, n := range nodes {
		rec(n)
	}
}

func textOf(n *html.Node) string {
	var b strings.Builder
	walk([]*html.Node{n}, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

// checkMarkup holds rendered content to the rules every component keeps, and returns
// the problems found: ids unique; every label's for, aria-describedby and
// aria-labelledby naming an element that exists; every form control labelled; every
// fieldset starting with a legend; headings in order (no level skipped going down);
// table headers scoped and tables captioned; navs named; no script, style, inline style
// or event attribute; in-page links pointing at an element.
func checkMarkup(nodes []*html.Node) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	ids := map[string]*html.Node{}
	walk(nodes, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		if id, ok := attr(n, "id"); ok {
			if ids[id] != nil {
				bad("id %q is not unique", id)
			}
			ids[id] = n
		}
	})
	labelled := map[string]bool{}
	lastHeading := 1 // the frame's h1, or the page's own
	walk(nodes, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		for _, a := range n.Attr {
			k := strings.ToLower(a.Key)
			if strings.HasPrefix(k, "on") {
				bad("<%s> has an event attribute %s", n.Data, a.Key)
			}
			if k == "style" {
				bad("<%s> has an inline style", n.Data)
			}
			if strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") {
				bad("<%s %s> is a javascript: URL", n.Data, a.Key)
			}
			if k == "aria-describedby" || k == "aria-labelledby" {
				for _, ref := range strings.Fields(a.Val) {
					if ids[ref] == nil {
						bad("<%s %s=%q>: no element has id %q", n.Data, a.Key, a.Val, ref)
					}
				}
			}
		}
		switch n.DataAtom {
		case atom.Script, atom.Style, atom.Iframe, atom.Object, atom.Embed:
			bad("<%s> in content", n.Data)
		case atom.Label:
			f, ok := attr(n, "for")
			if !ok {
				bad("<label> %q without for", textOf(n))
				break
			}
			target := ids[f]
			if target == nil {
				bad("<label for=%q>: no such element", f)
				break
			}
			if !slices.Contains([]atom.Atom{atom.Input, atom.Select, atom.Textarea}, target.DataAtom) {
				bad("<label for=%q> names a <%s>, not a form control", f, target.Data)
			}
			if textOf(n) == "" {
				bad("<label for=%q> is empty", f)
			}
			labelled[f] = true
		case atom.Fieldset:
			first := n.FirstChild
			for first != nil && first.Type != html.ElementNode {
				first = first.NextSibling
			}
			if first == nil || first.DataAtom != atom.Legend || textOf(first) == "" {
				bad("<fieldset> does not start with a legend")
			}
		case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
			level := int(n.Data[1] - '0')
			if level > lastHeading+1 {
				bad("<%s> %q follows an h%d: a level is skipped", n.Data, textOf(n), lastHeading)
			}
			lastHeading = level
			if textOf(n) == "" {
				bad("<%s> is empty", n.Data)
			}
		case atom.Th:
			if s, _ := attr(n, "scope"); s != "col" && s != "row" {
				bad("<th> %q without scope", textOf(n))
			}
		case atom.Table:
			first := n.FirstChild
			for first != nil && first.Type != html.ElementNode {
				first = first.NextSibling
			}
			if first == nil || first.DataAtom != atom.Caption || textOf(first) == "" {
				bad("<table> without a caption")
			}
		case atom.Nav:
			if l, _ := attr(n, "aria-label"); strings.TrimSpace(l) == "" {
				bad("<nav> without a name")
			}
		case atom.A:
			href, _ := attr(n, "href")
			// #ZgotmplZ is html/template's stand-in for a URL it refused to write.
			if strings.HasPrefix(href, "#") && href != "#ZgotmplZ" && ids[href[1:]] == nil {
				bad("<a href=%q>: no such element", href)
			}
			if textOf(n) == "" {
				bad("<a href=%q> without text", href)
			}
		}
	})
	for id, n := range ids {
		switch n.DataAtom {
		case atom.Input, atom.Select, atom.Textarea:
			if typ, _ := attr(n, "type"); typ == "hidden" || typ == "submit" {
				continue
			}
			if !labelled[id] {
				bad("<%s id=%q> has no label", n.Data, id)
			}
		}
	}
	walk(nodes, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.DataAtom {
		case atom.Input, atom.Select, atom.Textarea:
			if _, ok := attr(n, "id"); !ok {
				if typ, _ := attr(n, "type"); typ != "hidden" && typ != "submit" {
					bad("<%s name=%q> has no id, so no label", n.Data, func() string { s, _ := attr(n, "name"); return s }())
				}
			}
		}
	})
	return problems
}

// pseudoText is a text the pseudo-locale rendered whole: one or more bracketed
// messages, or a number.
var pseudoText = regexp.MustCompile(`^(\[[^\[\]]*\]\s*)+$|^[\d\s\x{a0}.,:−-]+$`)

// checkPseudo returns every text of the content (text nodes and the attributes people
// read) that did not come whole from the catalog.
func checkPseudo(nodes []*html.Node) []string {
	var problems []string
	walk(nodes, func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			s := strings.TrimSpace(n.Data)
			if n.Parent != nil && n.Parent.DataAtom == atom.Textarea {
				return // a value someone typed, not the page's words
			}
			if s != "" && !pseudoText.MatchString(s) {
				problems = append(problems, fmt.Sprintf("text %q in <%s> is not from the catalog whole", s, n.Parent.Data))
			}
		case html.ElementNode:
			for _, k := range []string{"aria-label", "title", "alt", "placeholder"} {
				if v, ok := attr(n, k); ok && !pseudoText.MatchString(strings.TrimSpace(v)) {
					problems = append(problems, fmt.Sprintf("<%s %s=%q> is not from the catalog whole", n.Data, k, v))
				}
			}
		}
	})
	return problems
}

func find(nodes []*html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	walk(nodes, func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
	})
	return out
}

func byID(nodes []*html.Node, id string) *html.Node {
	found := find(nodes, func(n *html.Node) bool { v, _ := attr(n, "id"); return v == id })
	if len(found) == 0 {
		return nil
	}
	return found[0]
}
