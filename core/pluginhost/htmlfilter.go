package pluginhost

import (
	"bytes"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The HTML filter (DESIGN.md §10). A plugin's page is inserted into the core's own
// frame, on the core's origin, so what a third-party plugin writes must not run script,
// restyle or escape the frame, or make htmx call anything but the plugin's own pages.
//
// It is built on the tokenizer and an allow-list: every element and attribute not
// listed is dropped, and the output is written anew from the tokens it keeps — text
// escaped, attribute values quoted and escaped, only tags it knows — so the browser
// parses exactly what the filter decided, whatever the input's tricks (case, entities,
// whitespace inside URLs, unclosed tags, SVG or MathML). Elements left open are closed
// at the end and end tags with nothing open to close are dropped, so a page cannot
// close the frame's <main> nor swallow its footer.

// droppedWithContent are elements removed with everything inside them: script and
// styles, other documents and plugins, document-level elements that belong to the
// frame, and foreign content (SVG, MathML), whose own script and link rules a
// filter of HTML cannot follow.
var droppedWithContent = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Iframe: true, atom.Object: true, atom.Embed: true,
	atom.Base: true, atom.Meta: true, atom.Link: true, atom.Svg: true, atom.Math: true,
	atom.Template: true, atom.Noscript: true, atom.Title: true, atom.Head: true,
	atom.Frame: true, atom.Frameset: true, atom.Applet: true, atom.Xmp: true,
	atom.Plaintext: true, atom.Noembed: true, atom.Noframes: true, atom.Canvas: true,
	atom.Audio: true, atom.Video: true, atom.Dialog: true, atom.Slot: true,
}

// voidElements have no end tag.
var voidElements = map[atom.Atom]bool{
	atom.Area: true, atom.Base: true, atom.Br: true, atom.Col: true, atom.Embed: true, atom.Hr: true,
	atom.Img: true, atom.Input: true, atom.Keygen: true, atom.Link: true, atom.Meta: true,
	atom.Param: true, atom.Source: true, atom.Track: true, atom.Wbr: true,
}

// globalAttrs are allowed on every allowed element, besides aria-* and data-*.
var globalAttrs = []string{"id", "class", "title", "lang", "dir", "hidden", "tabindex", "role", "translate"}

// allowedElements maps each element a plugin may write to its own attributes.
var allowedElements = map[atom.Atom][]string{
	atom.A:          {"href", "rel", "hreflang", "target", "type"},
	atom.Abbr:       nil,
	atom.Address:    nil,
	atom.Article:    nil,
	atom.Aside:      nil,
	atom.B:          nil,
	atom.Bdi:        nil,
	atom.Bdo:        nil,
	atom.Blockquote: {"cite"},
	atom.Br:         nil,
	atom.Button:     {"type", "name", "value", "disabled", "form", "formaction", "formmethod", "formnovalidate"},
	atom.Caption:    nil,
	atom.Cite:       nil,
	atom.Code:       nil,
	atom.Col:        {"span"},
	atom.Colgroup:   {"span"},
	atom.Data:       {"value"},
	atom.Datalist:   nil,
	atom.Dd:         nil,
	atom.Del:        {"cite", "datetime"},
	atom.Details:    {"open", "name"},
	atom.Dfn:        nil,
	atom.Div:        nil,
	atom.Dl:         nil,
	atom.Dt:         nil,
	atom.Em:         nil,
	atom.Fieldset:   {"disabled", "name", "form"},
	atom.Figcaption: nil,
	atom.Figure:     nil,
	atom.Footer:     nil,
	atom.Form:       {"action", "method", "enctype", "novalidate", "autocomplete", "name"},
	atom.H1:         nil, atom.H2: nil, atom.H3: nil, atom.H4: nil, atom.H5: nil, atom.H6: nil,
	atom.Header:   nil,
	atom.Hgroup:   nil,
	atom.Hr:       nil,
	atom.I:        nil,
	atom.Img:      {"src", "alt", "width", "height", "loading", "decoding"},
	atom.Input:    {"type", "name", "value", "checked", "disabled", "readonly", "required", "placeholder", "autocomplete", "inputmode", "min", "max", "step", "minlength", "maxlength", "pattern", "size", "multiple", "accept", "list", "form", "formaction", "formmethod", "formnovalidate", "spellcheck", "dirname"},
	atom.Ins:      {"cite", "datetime"},
	atom.Kbd:      nil,
	atom.Label:    {"for"},
	atom.Legend:   nil,
	atom.Li:       {"value"},
	atom.Mark:     nil,
	atom.Menu:     nil,
	atom.Meter:    {"value", "min", "max", "low", "high", "optimum"},
	atom.Nav:      nil,
	atom.Ol:       {"start", "reversed", "type"},
	atom.Optgroup: {"label", "disabled"},
	atom.Option:   {"value", "selected", "disabled", "label"},
	atom.Output:   {"for", "name", "form"},
	atom.P:        nil,
	atom.Picture:  nil,
	atom.Pre:      nil,
	atom.Progress: {"value", "max"},
	atom.Q:        {"cite"},
	atom.Rp:       nil, atom.Rt: nil, atom.Ruby: nil,
	atom.S:        nil,
	atom.Samp:     nil,
	atom.Search:   nil,
	atom.Section:  nil,
	atom.Select:   {"name", "multiple", "required", "disabled", "size", "autocomplete", "form"},
	atom.Small:    nil,
	atom.Source:   {"src", "type", "media", "width", "height"},
	atom.Span:     nil,
	atom.Strong:   nil,
	atom.Sub:      nil,
	atom.Summary:  nil,
	atom.Sup:      nil,
	atom.Table:    nil,
	atom.Tbody:    nil,
	atom.Td:       {"colspan", "rowspan", "headers"},
	atom.Textarea: {"name", "rows", "cols", "required", "disabled", "readonly", "placeholder", "maxlength", "minlength", "autocomplete", "spellcheck", "wrap", "form", "dirname"},
	atom.Tfoot:    nil,
	atom.Th:       {"colspan", "rowspan", "headers", "scope", "abbr"},
	atom.Thead:    nil,
	atom.Time:     {"datetime"},
	atom.Tr:       nil,
	atom.U:        nil,
	atom.Ul:       nil,
	atom.Var:      nil,
	atom.Wbr:      nil,
}

// htmxAttrs are the htmx attributes a plugin may use (also spelled data-hx-*).
// hx-on*, hx-vars (always script), hx-ext (loads code), hx-swap-oob and hx-select-oob
// (replace the frame's elements) are not among them.
var htmxAttrs = map[string]bool{
	"hx-get": true, "hx-post": true, "hx-put": true, "hx-patch": true, "hx-delete": true,
	"hx-target": true, "hx-swap": true, "hx-select": true, "hx-trigger": true, "hx-push-url": true,
	"hx-replace-url": true, "hx-indicator": true, "hx-confirm": true, "hx-boost": true,
	"hx-include": true, "hx-params": true, "hx-vals": true, "hx-headers": true, "hx-encoding": true,
	"hx-disinherit": true, "hx-inherit": true, "hx-preserve": true, "hx-sync": true, "hx-validate": true,
	"hx-disabled-elt": true, "hx-prompt": true,
}

// pluginURLAttrs send requests (htmx's or a form's): they must stay within the plugin's
// own pages.
var pluginURLAttrs = map[string]bool{
	"hx-get": true, "hx-post": true, "hx-put": true, "hx-patch": true, "hx-delete": true,
	"action": true, "formaction": true,
}

// selectorAttrs name elements of the page by CSS selector: they must not reach out of
// the plugin's content into the frame.
var selectorAttrs = map[string]bool{
	"hx-target": true, "hx-select": true, "hx-include": true, "hx-indicator": true, "hx-disabled-elt": true,
}

// simpleSelector is the one form of selector a plugin may give htmx: "this", or one
// element by tag, id or class, optionally relative ("closest form", "find .result",
// "next", "previous li"). CSS escapes, attribute selectors and combinators could pick
// the frame's elements under other names, so they are not allowed.
var simpleSelector = regexp.MustCompile(`^(this|next|previous|((closest|find|next|previous)\s+)?[#.]?[a-z][a-z0-9_-]*)$`)

// framePart reports a selector that may pick the frame's elements: anything but a
// simple selector, one naming a frame id (kv-), or the document's own elements.
func framePart(sel string) bool {
	s := strings.ToLower(strings.TrimSpace(sel))
	if !simpleSelector.MatchString(s) || strings.Contains(s, frameIDPrefix) {
		return true
	}
	fields := strings.Fields(s)
	switch strings.TrimLeft(fields[len(fields)-1], "#.") {
	case "body", "html", "head", "main":
		return true
	}
	return false
}

// linkAttrs hold a URL a person follows or a resource the page loads.
var linkAttrs = map[string]bool{"href": true, "src": true, "cite": true, "hx-push-url": true, "hx-replace-url": true}

// linkSchemes are the schemes allowed in linkAttrs; a URL without a scheme (a path) is
// allowed too.
var linkSchemes = []string{"http", "https", "mailto", "tel"}

// frameIDPrefix starts the ids of the frame's own elements (#kv-status, #kv-main): a
// plugin may not take them (but pluginKVIDs), or it could speak through the frame's
// live region.
const frameIDPrefix = "kv-"

// FilterHTML returns the part of src that the plugin named plugin may put on a page of
// the core (see the comment above). base is the path the HTML is shown at, against
// which relative URLs resolve: the page's own path, or the host page of a card.
func FilterHTML(src []byte, plugin, base string) []byte {
	f := htmlFilter{prefix: pagePrefix(plugin)}
	f.base, _ = url.Parse(base)
	if f.base == nil {
		f.base = &url.URL{Path: "/"}
	}
	return f.run(src)
}

type htmlFilter struct {
	prefix string
	base   *url.URL
	out    bytes.Buffer
	open   []atom.Atom // elements written and not yet closed, innermost last
}

func (f *htmlFilter) run(src []byte) []byte {
	f.out.Grow(len(src))
	z := html.NewTokenizer(bytes.NewReader(src))
	skip, skipDepth := atom.Atom(0), 0 // inside an element dropped with its content
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break // io.EOF, or input the tokenizer gave up on: what came before stands
		}
		// Text and end tags are read without building a Token: they are most of a
		// page, and a Token copies every string of it.
		if skip != 0 {
			if tt == html.StartTagToken || tt == html.EndTagToken {
				if name, _ := z.TagName(); atom.Lookup(name) == skip {
					if tt == html.StartTagToken {
						skipDepth++
					} else if skipDepth--; skipDepth == 0 {
						skip = 0
					}
				}
			}
			continue
		}
		switch tt {
		case html.TextToken:
			writeEscaped(&f.out, z.Text())
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if droppedWithContent[tok.DataAtom] || tok.DataAtom == 0 && isForeign(tok.Data) {
				if tt == html.StartTagToken && !voidElements[tok.DataAtom] {
					skip, skipDepth = tok.DataAtom, 1
					if skip == 0 { // an unknown foreign element: drop the rest
						return f.finish()
					}
				}
				continue
			}
			own, ok := allowedElements[tok.DataAtom]
			if !ok {
				continue // an unknown element: its tags go, its text stays
			}
			f.startTag(tok, own)
			if !voidElements[tok.DataAtom] {
				if tt == html.SelfClosingTagToken { // <div/> is <div> in HTML; close it here
					f.closeTag(tok.DataAtom)
				} else {
					f.open = append(f.open, tok.DataAtom)
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			// The innermost open element of that name, as a browser closes it: the
			// outermost would close everything inside it too, and the output would
			// change when filtered again.
			i := lastIndex(f.open, a)
			if _, ok := allowedElements[a]; !ok || i < 0 || a == 0 || voidElements[a] {
				continue // nothing of ours to close: never the frame's elements
			}
			for j := len(f.open) - 1; j >= i; j-- {
				f.closeTag(f.open[j])
			}
			f.open = f.open[:i]
		}
		// Comments, doctypes and processing instructions go.
	}
	return f.finish()
}

// lastIndex is the index of the last a in open, -1 when there is none.
func lastIndex(open []atom.Atom, a atom.Atom) int {
	for i := len(open) - 1; i >= 0; i-- {
		if open[i] == a {
			return i
		}
	}
	return -1
}

func (f *htmlFilter) closeTag(a atom.Atom) {
	f.out.WriteString("</")
	f.out.WriteString(a.String())
	f.out.WriteByte('>')
}

// writeEscaped writes text escaped as html.EscapeString escapes it (x/net/html's,
// which escapes carriage returns too), without its NUL bytes.
func writeEscaped(out *bytes.Buffer, text []byte) {
	last := 0
	for i, c := range text {
		var esc string
		switch c {
		case 0:
		case '&':
			esc = "&amp;"
		case '\'':
			esc = "&#39;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&#34;"
		case '\r':
			esc = "&#13;"
		default:
			continue
		}
		out.Write(text[last:i])
		out.WriteString(esc)
		last = i + 1
	}
	out.Write(text[last:])
}

// isForeign reports an element name the atom table does not know that may still open
// foreign content or script in some browser (namespaced names such as svg:script).
func isForeign(name string) bool { return strings.Contains(name, ":") }

func (f *htmlFilter) finish() []byte {
	for j := len(f.open) - 1; j >= 0; j-- {
		f.closeTag(f.open[j])
	}
	f.open = nil
	return f.out.Bytes()
}

func (f *htmlFilter) startTag(tok html.Token, own []string) {
	f.out.WriteByte('<')
	f.out.WriteString(tok.DataAtom.String())
	for i, a := range tok.Attr {
		key := a.Key
		if a.Namespace != "" || slices.ContainsFunc(tok.Attr[:i], func(b html.Attribute) bool { return b.Key == key }) {
			continue // browsers keep the first of two attributes of one name
		}
		val := strings.ReplaceAll(a.Val, "\x00", "")
		if urlAttr(key) {
			// A URL is written as it was checked, without what browsers ignore.
			val = cleanURL(val)
		}
		if !f.attrAllowed(tok.DataAtom, own, key, val) {
			continue
		}
		f.out.WriteByte(' ')
		f.out.WriteString(key)
		f.out.WriteString(`="`)
		writeEscaped(&f.out, []byte(val)) // val has no NUL left
		f.out.WriteByte('"')
	}
	f.out.WriteByte('>')
}

func (f *htmlFilter) attrAllowed(el atom.Atom, own []string, key, val string) bool {
	// htmx reads data-hx-* as hx-*: one rule for both spellings.
	hx, isData := strings.CutPrefix(key, "data-")
	if !isData {
		hx = key
	}
	switch {
	case strings.HasPrefix(hx, "hx-") || hx == "hx":
		if !htmxAttrs[hx] {
			return false
		}
		v := strings.ToLower(strings.TrimSpace(val))
		// htmx evaluates these as script. Controls and white space are dropped before
		// the check, as for URLs: a prefix hidden behind them is refused too.
		if s := strings.ToLower(normalizeURL(val)); strings.HasPrefix(s, "js:") || strings.HasPrefix(s, "javascript:") {
			return false
		}
		if hx == "hx-trigger" && strings.ContainsAny(val, "[]{}") {
			return false // trigger filters ([cond]) are script too
		}
		if pluginURLAttrs[hx] {
			return f.ownPage(val)
		}
		if selectorAttrs[hx] {
			return !framePart(val)
		}
		if linkAttrs[hx] && !isFlag(v) {
			return f.ownPage(val)
		}
		return true
	case isData:
		return true
	case strings.HasPrefix(key, "aria-"):
		return true
	case key == "id":
		return !frameID(val) // a plugin may not take the frame's ids
	case slices.Contains(globalAttrs, key):
		return true
	case !slices.Contains(own, key):
		return false // on*, style, srcset and everything else not listed
	case key == "form":
		return !frameID(val) // nor submit the frame's forms
	case pluginURLAttrs[key]:
		return f.ownPage(val)
	case key == "src" && el == atom.Img && isDataImage(val):
		return true
	case linkAttrs[key]:
		return safeLink(val)
	}
	return true
}

// pluginKVIDs are the kv- ids the SDK's web kit writes into a plugin's content: its
// error summary (web.ErrorSummaryID), which PageMeta.Focus names. Every other kv- id
// belongs to the frame.
var pluginKVIDs = map[string]bool{"kv-error-summary": true}

// frameID reports an id of the frame's own elements, however a plugin spells it.
func frameID(v string) bool {
	n := strings.ToLower(normalizeURL(v))
	return strings.HasPrefix(n, frameIDPrefix) && !pluginKVIDs[n]
}

// isFlag is an htmx boolean value ("true", "false") rather than a URL.
func isFlag(v string) bool { return v == "true" || v == "false" }

// urlAttr reports an attribute whose value is a URL (in either htmx spelling).
func urlAttr(key string) bool {
	k := strings.TrimPrefix(key, "data-")
	return pluginURLAttrs[k] || linkAttrs[k]
}

// cleanURL removes control characters (browsers drop tabs and newlines anywhere,
// and controls and spaces around a URL) and the spaces around it.
func cleanURL(v string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, v))
}

// normalizeURL removes what browsers ignore in a URL attribute: ASCII whitespace and
// control characters anywhere (browsers drop tabs and newlines inside, and spaces and
// controls around; dropping more only makes a scheme easier to see).
func normalizeURL(v string) string {
	return strings.Map(func(r rune) rune {
		if r <= 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, v)
}

// scheme returns the lower-cased scheme of a normalized URL, "" for a path.
func scheme(v string) string {
	i := strings.IndexAny(v, ":/?#")
	if i <= 0 || v[i] != ':' {
		return ""
	}
	return strings.ToLower(v[:i])
}

// safeLink allows a path or a URL of an allowed scheme.
func safeLink(v string) bool {
	s := scheme(normalizeURL(v))
	return s == "" || slices.Contains(linkSchemes, s)
}

// isDataImage is a data: URL of an image, allowed in <img src> only (the CSP allows
// img-src data: and nothing else data:).
func isDataImage(v string) bool {
	n := strings.ToLower(normalizeURL(v))
	return strings.HasPrefix(n, "data:image/")
}

// ownPage reports whether a URL that sends a request leads to one of the plugin's own
// pages, once resolved against the page as the browser would resolve it.
func (f *htmlFilter) ownPage(v string) bool {
	if strings.ContainsAny(v, " ") {
		return false // a space inside would be a different path once encoded
	}
	n := normalizeURL(v)
	// Browsers read \ as / in http(s) URLs ("/\evil.example" is another host) and
	// decode %2e%2e as a dot segment; neither belongs in a plugin's own path.
	if strings.Contains(n, `\`) || strings.Contains(strings.ToLower(n), "%2e") || scheme(n) != "" {
		return false
	}
	ref, err := url.Parse(n)
	if err != nil || ref.Host != "" || ref.User != nil || strings.HasPrefix(n, "//") {
		return false
	}
	u := f.base.ResolveReference(ref)
	if u.Scheme != "" || u.Host != "" {
		return false
	}
	p := u.EscapedPath()
	return p == f.prefix || strings.HasPrefix(p, f.prefix+"/")
}
