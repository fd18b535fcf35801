package e2e

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
)

// axeSource is axe-core, vendored by scripts/assets.sh (see testdata/vendor/VERSIONS).
//
//go:embed testdata/vendor/axe-core/axe.min.js
var axeSource string

// AxeTags are the rule sets run: WCAG 2.0, 2.1 and 2.2 at levels A and AA.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

// Violation is one axe-core rule the page breaks.
type Violation struct {
	Rule    string      `json:"id"`
	Impact  string      `json:"impact"` // minor, moderate, serious or critical
	Help    string      `json:"help"`
	HelpURL string      `json:"helpUrl"`
	Nodes   []AxeTarget `json:"nodes"`
}

// AxeTarget is one element that breaks a rule.
type AxeTarget struct {
	Target  []any  `json:"target"` // CSS selectors, one per frame or shadow root
	HTML    string `json:"html"`
	Summary string `json:"failureSummary"`
}

// Blocking reports whether the violation fails a page: serious or critical.
func (v Violation) Blocking() bool { return v.Impact == "serious" || v.Impact == "critical" }

func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s — %s", v.Rule, v.Impact, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n    at %v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " "))
	}
	return b.String()
}

// AxeReport is axe-core's verdict on a page.
type AxeReport struct {
	URL        string
	Violations []Violation
}

// Blocking are the serious and critical violations.
func (r AxeReport) Blocking() []Violation {
	var out []Violation
	for _, v := range r.Violations {
		if v.Blocking() {
			out = append(out, v)
		}
	}
	return out
}

// Err describes the blocking violations, or is nil when there are none.
func (r AxeReport) Err() error {
	blocking := r.Blocking()
	if len(blocking) == 0 {
		return nil
	}
	lines := make([]string, len(blocking))
	for i, v := range blocking {
		lines[i] = v.String()
	}
	return fmt.Errorf("axe-core: %d serious or critical violations on %s:\n  %s", len(blocking), r.URL, strings.Join(lines, "\n  "))
}

// Axe injects axe-core into the document as it is now (after any interaction) and
// runs the WCAG A and AA rules (AxeTags). It does not fail the test by itself.
func (p *Page) Axe() AxeReport {
	p.tb.Helper()
	if !Eval[bool](p, `typeof window.axe === 'object' && typeof window.axe.run === 'function'`) {
		// Evaluated through DevTools, so the page's CSP does not apply to it.
		p.do("inject axe-core", evalRaw(axeSource))
	}
	tags, _ := json.Marshal(AxeTags)
	raw := Eval[string](p, fmt.Sprintf(`axe.run(document, {
		runOnly: {type: 'tag', values: %s},
		resultTypes: ['violations'],
	}).then((r) => JSON.stringify({url: r.url, violations: r.violations}))`, tags))
	var out struct {
		URL        string      `json:"url"`
		Violations []Violation `json:"violations"`
	}
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		p.tb.Fatalf("read axe-core's results: %v", err)
	}
	return AxeReport{URL: out.URL, Violations: out.Violations}
}

// AssertAccessible runs Axe and fails the test on any serious or critical
// violation, with each rule, impact, target and help URL. Minor and moderate
// findings are logged.
func (p *Page) AssertAccessible() {
	p.tb.Helper()
	r := p.Axe()
	for _, v := range r.Violations {
		if !v.Blocking() {
			p.tb.Logf("axe-core (not failing): %s", v)
		}
	}
	if err := r.Err(); err != nil {
		p.tb.Fatal(err)
	}
}
