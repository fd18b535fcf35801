package web_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The markup checks of sdk/web's tests, held to whole documents: the frame may load
// a script by src from its own origin, never inline.

func parseDoc(t *testing.T, s string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc
}

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

func tag(a atom.Atom) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.DataAtom == a }
}

// checkMarkup returns the problems of a rendered page: ids unique; labels, aria
// references and in-page links pointing at elements that exist; every control
// labelled; fieldsets with legends; headings in order starting at h1; navs and
// forms with a name named; no inline script, style or event attribute.
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
	lastHeading := 0
	walk(nodes, func(n *html.Node) {
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
			if strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") || strings.HasPrefix(strings.TrimSpace(a.Val), "js:") {
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
			if src, _ := attr(n, "src"); src == "" || n.FirstChild != nil {
				bad("inline <script>")
			}
		case atom.Style, atom.Iframe, atom.Object, atom.Embed:
			bad("<%s> in the page", n.Data)
		case atom.Label:
			f, ok := attr(n, "for")
			target := ids[f]
			switch {
			case !ok:
				bad("<label> %q without for", textOf(n))
			case target == nil:
				bad("<label for=%q>: no such element", f)
			case !slices.Contains([]atom.Atom{atom.Input, atom.Select, atom.Textarea}, target.DataAtom):
				bad("<label for=%q> names a <%s>", f, target.Data)
			case textOf(n) == "":
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
		case atom.Nav:
			if l, _ := attr(n, "aria-label"); strings.TrimSpace(l) == "" {
				bad("<nav> without a name")
			}
		case atom.A:
			href, _ := attr(n, "href")
			if strings.HasPrefix(href, "#") && ids[href[1:]] == nil {
				bad("<a href=%q>: no such element", href)
			}
			if href == "" || strings.Contains(href, "ZgotmplZ") {
				bad("<a> %q has a refused or empty href", textOf(n))
			}
			if textOf(n) == "" {
				bad("<a href=%q> without text", href)
			}
		case atom.Button:
			if textOf(n) == "" {
				bad("<button> without text")
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
		if n.Type == html.ElementNode && (n.DataAtom == atom.Input || n.DataAtom == atom.Select || n.DataAtom == atom.Textarea) {
			if _, ok := attr(n, "id"); !ok {
				if typ, _ := attr(n, "type"); typ != "hidden" && typ != "submit" {
					bad("<%s> has no id, so no label", n.Data)
				}
			}
		}
	})
	return problems
}
