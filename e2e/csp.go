package e2e

import (
	"fmt"
	"strings"

	"github.com/chromedp/cdproto/audits"
)

// CSPViolation is one thing the page's Content-Security-Policy blocked.
type CSPViolation struct {
	Directive string // the directive that blocked it, e.g. "script-src-elem"
	Blocked   string // the blocked URL, or "inline" / "eval"
	Source    string // where it happened: URL:line, when the browser says
}

func (v CSPViolation) String() string {
	s := fmt.Sprintf("%s blocked %s", v.Directive, v.Blocked)
	if v.Source != "" {
		s += " at " + v.Source
	}
	return s
}

// CSPViolations are the violations of the page's CSP the browser reported since the
// tab opened, across navigations. They come from DevTools' Audits domain (the
// Issues panel), which reports every kind — an inline script, a script-created
// style element, the Function constructor behind hx-on — with its directive and
// source line; the console misses some (a blocked eval that a library catches).
func (p *Page) CSPViolations() []CSPViolation {
	p.sync()
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]CSPViolation(nil), p.csp...)
}

// AssertNoCSPViolations fails the test now if the CSP blocked anything so far.
func (p *Page) AssertNoCSPViolations() {
	p.tb.Helper()
	if v := p.cspStrings(); len(v) > 0 {
		p.tb.Fatalf("the page's CSP blocked:\n  %s", strings.Join(v, "\n  "))
	}
}

func (p *Page) cspStrings() []string {
	var out []string
	for _, v := range p.CSPViolations() {
		out = append(out, v.String())
	}
	return out
}

// cspFromIssue reads the structured report DevTools' Issues panel shows.
func cspFromIssue(issue *audits.InspectorIssue) *CSPViolation {
	if issue == nil || issue.Code != audits.InspectorIssueCodeContentSecurityPolicyIssue ||
		issue.Details == nil || issue.Details.ContentSecurityPolicyIssueDetails == nil {
		return nil
	}
	d := issue.Details.ContentSecurityPolicyIssueDetails
	if d.IsReportOnly {
		return nil
	}
	v := &CSPViolation{Directive: d.ViolatedDirective, Blocked: d.BlockedURL}
	if v.Blocked == "" {
		switch t := string(d.ContentSecurityPolicyViolationType); {
		case strings.Contains(t, "Eval"):
			v.Blocked = "eval"
		default:
			v.Blocked = "inline"
		}
	}
	if loc := d.SourceCodeLocation; loc != nil {
		v.Source = fmt.Sprintf("%s:%d", loc.URL, loc.LineNumber+1)
	}
	return v
}
