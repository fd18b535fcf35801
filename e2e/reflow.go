package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Phone320 sets the viewport of a 320 CSS px wide phone (WCAG 1.4.10's width):
// mobile, so the page's <meta name=viewport> decides the layout width as on a phone.
func (p *Page) Phone320() {
	p.tb.Helper()
	p.Viewport(320, 640, 2, true)
}

// Zoom400 shows the page as a 1280×1024 desktop window zoomed to 400 %: browser zoom
// divides the CSS viewport by the zoom factor and multiplies the device pixel ratio,
// so the layout is 320×256 CSS px at 4 device px per CSS px.
func (p *Page) Zoom400() {
	p.tb.Helper()
	p.Viewport(1280/4, 1024/4, 4, false)
}

// Reflow is how the page fits its viewport's width.
type Reflow struct {
	Width         int      `json:"-"`           // the emulated viewport's width, CSS px
	ViewportWidth int      `json:"viewport"`    // window.innerWidth, CSS px
	LayoutWidth   int      `json:"clientWidth"` // the root element's width
	ContentWidth  int      `json:"scrollWidth"` // the root element's scrollable width
	Overflowing   []string `json:"overflowing"` // the outermost elements that stick out
}

// Err is nil when the page reflows: its layout is no wider than the viewport and
// nothing makes it scroll sideways (WCAG 1.4.10).
func (r Reflow) Err() error {
	switch {
	case r.LayoutWidth > r.Width:
		return fmt.Errorf("the page lays out %d CSS px wide on a %d px screen: is <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"> missing?", r.LayoutWidth, r.Width)
	case r.ContentWidth > r.LayoutWidth:
		return fmt.Errorf("the page scrolls sideways: %d CSS px of content in %d; sticking out: %s", r.ContentWidth, r.LayoutWidth, strings.Join(r.Overflowing, ", "))
	}
	return nil
}

// Reflow measures the page as it is laid out now (after Phone320 or Zoom400).
func (p *Page) Reflow() Reflow {
	p.tb.Helper()
	raw := Eval[string](p, `new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => {
		const root = document.documentElement;
		const limit = root.clientWidth;
		const describe = (el) => {
			let s = el.tagName.toLowerCase();
			if (el.id) s += '#' + el.id;
			if (typeof el.className === 'string' && el.className.trim()) s += '.' + el.className.trim().split(/\s+/).join('.');
			return s + ' (' + Math.round(el.getBoundingClientRect().right) + ' px)';
		};
		const out = [];
		const walk = (el) => {
			for (const child of el.children) {
				const r = child.getBoundingClientRect();
				if (r.width > 0 && (r.right > limit + 1 || r.left < -1)) {
					if (out.length < 5) out.push(describe(child));
					continue; // its children are counted with it
				}
				const style = getComputedStyle(child);
				if (style.overflowX === 'auto' || style.overflowX === 'scroll' || style.overflowX === 'hidden') continue; // a scroll box may hold a wide table
				walk(child);
			}
		};
		if (document.body) walk(document.body);
		resolve(JSON.stringify({viewport: window.innerWidth, clientWidth: limit, scrollWidth: root.scrollWidth, overflowing: out}));
	})))`)
	r := Reflow{Width: int(p.width)}
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		p.tb.Fatalf("read the layout: %v", err)
	}
	return r
}

// AssertReflow fails the test now if the page does not reflow (see Reflow.Err).
func (p *Page) AssertReflow() {
	p.tb.Helper()
	if err := p.Reflow().Err(); err != nil {
		p.tb.Fatal(err)
	}
}
