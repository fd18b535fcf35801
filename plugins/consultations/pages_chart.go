package consultations

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
)

// The results' charts. A chart is an SVG image of its own (served by a route, shown
// with <img>), not inline SVG: the host's HTML filter drops foreign content from a
// plugin's page, and an image cannot run script or restyle the frame whatever it
// holds. The image carries role="img" with a <title> and a <desc> that say the whole
// result in words, and the page puts the same figures in a table beside it, so a
// screen reader loses nothing the bars show.

// chartBar is one bar: its label, its value and the value as the page writes it
// ("12 (40 %)").
type chartBar struct {
	Label string
	Value int64
	Text  string
}

// chart is a horizontal bar chart, in the viewer's language.
type chart struct {
	Title string
	Desc  string
	Bars  []chartBar
}

// Geometry of a chart, in SVG user units (the image scales to the page's width).
const (
	chartWidth   = 640
	chartLabelW  = 240 // the labels' column
	chartValueW  = 110 // the values' column at the right
	chartRowH    = 36
	chartBarH    = 22
	chartPadding = 8
	// chartLabelMax is how many characters of a label the image shows; the table
	// beside it has the whole text.
	chartLabelMax = 34
)

// Colours with at least 4.5:1 against white for text and 3:1 for the bars (WCAG
// 1.4.3, 1.4.11), as presentation attributes: the site's CSP allows no inline style.
const (
	chartText = "#1e2329"
	chartBarC = "#1f5c99"
	chartAxis = "#5d6770"
)

// svg renders the chart as a standalone SVG document.
func (c chart) svg() []byte {
	var maxV int64
	for _, b := range c.Bars {
		maxV = max(maxV, b.Value)
	}
	height := chartPadding*2 + chartRowH*max(len(c.Bars), 1)
	plotW := chartWidth - chartLabelW - chartValueW - chartPadding*2
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="chart-title chart-desc" viewBox="0 0 %d %d" width="%d" height="%d" font-family="sans-serif" font-size="15">`,
		chartWidth, height, chartWidth, height)
	buf.WriteString(`<title id="chart-title">`)
	escape(&buf, c.Title)
	buf.WriteString(`</title><desc id="chart-desc">`)
	escape(&buf, c.Desc)
	buf.WriteString(`</desc>`)
	buf.WriteString(`<rect width="100%" height="100%" fill="#ffffff"/>`)
	x0 := chartLabelW + chartPadding
	fmt.Fprintf(&buf, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1"/>`, x0, chartPadding, x0, height-chartPadding, chartAxis)
	for i, b := range c.Bars {
		y := chartPadding + i*chartRowH
		mid := y + chartRowH/2
		fmt.Fprintf(&buf, `<text x="%d" y="%d" text-anchor="end" dominant-baseline="middle" fill="%s">`, chartLabelW, mid, chartText)
		escape(&buf, shorten(b.Label, chartLabelMax))
		buf.WriteString(`</text>`)
		w := 0
		if maxV > 0 {
			w = int(int64(plotW) * b.Value / maxV)
		}
		if b.Value > 0 && w < 2 {
			w = 2 // a value above zero is never drawn as none
		}
		fmt.Fprintf(&buf, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`, x0, mid-chartBarH/2, w, chartBarH, chartBarC)
		fmt.Fprintf(&buf, `<text x="%d" y="%d" dominant-baseline="middle" fill="%s">`, x0+w+6, mid, chartText)
		escape(&buf, b.Text)
		buf.WriteString(`</text>`)
	}
	buf.WriteString(`</svg>`)
	return buf.Bytes()
}

// escape writes s as XML text.
func escape(buf *bytes.Buffer, s string) {
	_ = xml.EscapeText(buf, []byte(s)) // a bytes.Buffer does not fail
}

// shorten cuts s to n characters with an ellipsis.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// percent is part of whole as a whole percentage, for a bar's text.
func percent(part, whole int64) string {
	if whole <= 0 {
		return "0"
	}
	return strconv.FormatInt((part*100+whole/2)/whole, 10)
}
