package web_test

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/kvarter/kvarter/sdk/web/webtest"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// pseudoText is a text the pseudo-locale rendered whole: one or more bracketed
// messages, or a number.
var pseudoText = regexp.MustCompile(`^(\[[^\[\]]*\]\s*)+$|^[\d\s\x{a0}.,:−-]+$`)

// checkPseudo returns every text of the content (text nodes and the attributes people
// read) that did not come whole from the catalog.
func checkPseudo(nodes []*html.Node) []string {
	var problems []string
	webtest.Walk(nodes, func(n *html.Node) {
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
				if v, ok := webtest.Attr(n, k); ok && !pseudoText.MatchString(strings.TrimSpace(v)) {
					problems = append(problems, fmt.Sprintf("<%s %s=%q> is not from the catalog whole", n.Data, k, v))
				}
			}
		}
	})
	return problems
}
