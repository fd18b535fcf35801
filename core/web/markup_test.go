package web_test

import (
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The markup checks are sdk/web/webtest's, held to whole documents (webtest.Document):
// the frame may load a script by src from its own origin, never inline.

func tag(a atom.Atom) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.DataAtom == a }
}
