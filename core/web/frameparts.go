package web

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html/template"
	"strings"
	"sync"
)

// The frame is the same for every page in one language but for a few values: the
// title, the person's name, the page's path, the flash message, the announcement, the
// content, three lists (navigation, breadcrumbs, cards) and the link to the person's
// notifications with their unread count. Executing the whole frame
// template per request cost more than most pages' content (issue 16), so it is
// executed once per language and shape (framePartsKey) with a marker in place of each
// of those values, and cut at the markers. A request then writes the pieces with its
// values in between: the strings escaped as html/template escapes them in the text and
// quoted attributes they sit in, the lists drawn by their own small templates.
// frameparts_test.go holds the result to the template executed directly.

// frameSlot names a value the frame leaves open.
type frameSlot int

const (
	slotTitle frameSlot = iota
	slotFullTitle
	slotName
	slotBack
	slotFlash
	slotAnnounce
	slotNav // the slots from here on are HTML
	slotNotify
	slotCrumbs
	slotContent
	slotCards
	slotCount
)

// framePartsKey is what, besides the open values, changes the frame's markup.
type framePartsKey struct {
	lang     string
	frame    string // "page" or "fragment"
	signedIn bool
	heading  bool
	flash    bool
}

// frameParts is the frame cut at its open values: lit[0], slot[0], lit[1], …, lit[n].
type frameParts struct {
	lit   [][]byte
	slots []frameSlot
}

// frameCache keeps the frame's parts for each key the site has drawn (at most
// languages × 2⁴ of them).
type frameCache struct {
	marker string // unique to the process, so no city name or stylesheet URL contains it
	parts  sync.Map
}

func newFrameCache() *frameCache {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &frameCache{marker: "kvslot" + hex.EncodeToString(b[:])}
}

// slotMark is the marker of slot s: letters and digits, which no escaper changes.
func (c *frameCache) slotMark(s frameSlot) string { return fmt.Sprintf("%s%02dz", c.marker, int(s)) }

// framePartsFor are the parts of the frame for key, executing the template the first
// time; fv carries the frame's fixed values (city, logo, assets).
func (p *Pages) framePartsFor(key framePartsKey, fv frameView) (*frameParts, error) {
	c := p.frames
	if v, ok := c.parts.Load(key); ok {
		return v.(*frameParts), nil
	}
	m := func(s frameSlot) string { return c.slotMark(s) }
	fv.Title, fv.FullTitle, fv.Name, fv.Back, fv.Announce = m(slotTitle), m(slotFullTitle), m(slotName), m(slotBack), m(slotAnnounce)
	fv.Flash = ""
	if key.flash {
		fv.Flash = m(slotFlash)
	}
	fv.NavHTML, fv.NotifyHTML, fv.CrumbsHTML = template.HTML(m(slotNav)), template.HTML(m(slotNotify)), template.HTML(m(slotCrumbs))
	fv.Content, fv.CardsHTML = template.HTML(m(slotContent)), template.HTML(m(slotCards))
	fv.SignedIn, fv.Heading, fv.Frame = key.signedIn, key.heading, key.frame
	fv.Languages = p.languages(key.lang)
	name := "core-frame"
	if key.frame == "fragment" {
		name = "core-fragment"
	}
	parts, err := c.draw(p.tmpl.For(key.lang), name, fv)
	if err != nil {
		return nil, err
	}
	v, _ := c.parts.LoadOrStore(key, parts)
	return v.(*frameParts), nil
}

// draw executes the template name with data, whose open values are markers, and cuts
// the result at them.
func (c *frameCache) draw(tmpl *template.Template, name string, data any) (*frameParts, error) {
	var out strings.Builder
	if err := tmpl.ExecuteTemplate(&out, name, data); err != nil {
		return nil, err
	}
	parts := &frameParts{}
	rest := out.String()
	for {
		i := strings.Index(rest, c.marker)
		if i < 0 {
			break
		}
		var s int
		if _, err := fmt.Sscanf(rest[i+len(c.marker):], "%02dz", &s); err != nil || s < 0 || s >= int(slotCount) {
			return nil, fmt.Errorf("web: %s: a marker cut short at %q", name, rest[i:min(len(rest), i+40)])
		}
		parts.lit = append(parts.lit, []byte(rest[:i]))
		parts.slots = append(parts.slots, frameSlot(s))
		rest = rest[i+len(c.slotMark(frameSlot(s))):]
	}
	parts.lit = append(parts.lit, []byte(rest))
	return parts, nil
}

// write writes the frame with fv's open values into out.
func (fp *frameParts) write(out *bytes.Buffer, fv *frameView) {
	vals := [slotCount]string{
		slotTitle: fv.Title, slotFullTitle: fv.FullTitle, slotName: fv.Name, slotBack: fv.Back,
		slotFlash: fv.Flash, slotAnnounce: fv.Announce,
		slotNav: string(fv.NavHTML), slotNotify: string(fv.NotifyHTML), slotCrumbs: string(fv.CrumbsHTML), slotContent: string(fv.Content), slotCards: string(fv.CardsHTML),
	}
	for i, s := range fp.slots {
		out.Write(fp.lit[i])
		if s == slotContent && fv.body != nil {
			out.Write(fv.body)
		} else if s >= slotNav {
			out.WriteString(vals[s]) // HTML
		} else {
			htmlEscape(out, vals[s])
		}
	}
	out.Write(fp.lit[len(fp.lit)-1])
}

// htmlEscaper escapes as html/template does a string in text, RCDATA (<title>) and a
// quoted attribute value: the frame's open strings sit in nothing else.
var htmlEscaper = strings.NewReplacer(
	"\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;",
)

func htmlEscape(out *bytes.Buffer, s string) { _, _ = htmlEscaper.WriteString(out, s) }
