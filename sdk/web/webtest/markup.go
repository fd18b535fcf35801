// Package webtest checks the markup of rendered pages in tests: the rules every page,
// frame and component keeps (ids, labels, headings, tables, navs, no script in content,
// no inline style or event attribute). The core's pages, the SDK's components and the
// plugins' pages are held to the same rules.
package webtest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Kind says what CheckMarkup holds the markup to.
type Kind int

const (
	// Content is what a plugin or component renders inside <main>: the frame's h1 is
	// above it, and no script at all.
	Content Kind = iota
	// Document is a whole page with its frame: it starts at h1 and may load scripts
	// by src from its own origin.
	Document
)

// ParseDocument parses a whole page.
func ParseDocument(tb testing.TB, s string) *html.Node {
	tb.Helper()
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		tb.Fatalf("parse: %v", err)
	}
	return doc
}

// ParseFragment parses rendered content as the children of <main>.
func ParseFragment(tb testing.TB, s string) []*html.Node {
	tb.Helper()
	ctx := &html.Node{Type: html.ElementNode, Data: "main", DataAtom: atom.Main}
	nodes, err := html.ParseFragment(strings.NewReader(s), ctx)
	if err != nil {
		tb.Fatalf("parse: %v", err)
	}
	return nodes
}

// Attr is the value of n's attribute key, and whether it has one.
func Attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// Walk calls fn on every node of the trees, depth first.
func Walk(nodes []*html.Node, fn func(*html.Node)) {
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

// Text is n's text, whitespace collapsed.
func Text(n *html.Node) string {
	var b strings.Builder
	Walk([]*html.Node{n}, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

// Find lists the elements that match.
func Find(nodes []*html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	Walk(nodes, func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
	})
	return out
}

// ByID is the element with id, or nil.
func ByID(nodes []*html.Node, id string) *html.Node {
	found := Find(nodes, func(n *html.Node) bool { v, _ := Attr(n, "id"); return v == id })
	if len(found) == 0 {
		return nil
	}
	return found[0]
}

// CheckMarkup holds rendered HTML to the rules every page and component keeps, and
// returns the problems found: ids unique; every label's for, aria-describedby and
// aria-labelledby naming an element that exists; every form control labelled; every
// fieldset starting with a legend; headings in order (no level skipped going down);
// table headers scoped and tables captioned; navs named; no inline script, style,
// inline style, event attribute (htmx's hx-on too) or script URL; in-page links
// pointing at an element.
func CheckMarkup(nodes []*html.Node, kind Kind) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	ids := map[string]*html.Node{}
	Walk(nodes, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		if id, ok := Attr(n, "id"); ok {
			if ids[id] != nil {
				bad("id %q is not unique", id)
			}
			ids[id] = n
		}
	})
	labelled := map[string]bool{}
	lastHeading := 1 // the frame's h1, or the page's own
	if kind == Document {
		lastHeading = 0
	}
	Walk(nodes, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		for _, a := range n.Attr {
			k := strings.ToLower(a.Key)
			if strings.HasPrefix(k, "on") || strings.HasPrefix(k, "hx-on") {
				bad("<%s> has an event attribute %s", n.Data, a.Key)
			}
			if k == "style" {
				bad("<%s> has an inline style", n.Data)
			}
			if v := strings.ToLower(strings.TrimSpace(a.Val)); strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "js:") {
				bad("<%s %s> is a script URL", n.Data, a.Key)
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
		case atom.Script:
			// A document (the frame) may load a script from its own origin; content never.
			if src, _ := Attr(n, "src"); kind != Document || src == "" || n.FirstChild != nil {
				bad("inline <script>, or a script in content")
			}
		case atom.Style, atom.Iframe, atom.Object, atom.Embed:
			bad("<%s> in the page", n.Data)
		case atom.Label:
			f, ok := Attr(n, "for")
			if !ok {
				bad("<label> %q without for", Text(n))
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
			if Text(n) == "" {
				bad("<label for=%q> is empty", f)
			}
			labelled[f] = true
		case atom.Fieldset:
			first := n.FirstChild
			for first != nil && first.Type != html.ElementNode {
				first = first.NextSibling
			}
			if first == nil || first.DataAtom != atom.Legend || Text(first) == "" {
				bad("<fieldset> does not start with a legend")
			}
		case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
			level := int(n.Data[1] - '0')
			if level > lastHeading+1 {
				bad("<%s> %q follows an h%d: a level is skipped", n.Data, Text(n), lastHeading)
			}
			lastHeading = level
			if Text(n) == "" {
				bad("<%s> is empty", n.Data)
			}
		case atom.Th:
			if s, _ := Attr(n, "scope"); s != "col" && s != "row" {
				bad("<th> %q without scope", Text(n))
			}
		case atom.Table:
			first := n.FirstChild
			for first != nil && first.Type != html.ElementNode {
				first = first.NextSibling
			}
			if first == nil || first.DataAtom != atom.Caption || Text(first) == "" {
				bad("<table> without a caption")
			}
		case atom.Nav:
			if l, _ := Attr(n, "aria-label"); strings.TrimSpace(l) == "" {
				bad("<nav> without a name")
			}
		case atom.A:
			href, _ := Attr(n, "href")
			// #ZgotmplZ is html/template's stand-in for a URL it refused to write.
			if strings.HasPrefix(href, "#") && href != "#ZgotmplZ" && ids[href[1:]] == nil {
				bad("<a href=%q>: no such element", href)
			}
			if Text(n) == "" {
				bad("<a href=%q> without text", href)
			}
		}
	})
	for id, n := range ids {
		switch n.DataAtom {
		case atom.Input, atom.Select, atom.Textarea:
			if typ, _ := Attr(n, "type"); typ == "hidden" || typ == "submit" {
				continue
			}
			if !labelled[id] {
				bad("<%s id=%q> has no label", n.Data, id)
			}
		}
	}
	Walk(nodes, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.DataAtom {
		case atom.Input, atom.Select, atom.Textarea:
			if _, ok := Attr(n, "id"); !ok {
				if typ, _ := Attr(n, "type"); typ != "hidden" && typ != "submit" {
					bad("<%s name=%q> has no id, so no label", n.Data, func() string { s, _ := Attr(n, "name"); return s }())
				}
			}
		}
	})
	return problems
}
