package pluginhost_test

import (
	"bytes"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/kvarter/kvarter/core/pluginhost"
)

// filterCases attack the filter: each input tries to get script, styles, foreign
// requests or the frame's elements through. keep lists text that must survive (the
// filter removes the attack, not the page); drop lists text that must be gone.
var filterCases = []struct {
	name       string
	in         string
	keep, drop []string
}{
	{"Script", `<p>a</p><script>alert(1)</script><p>b</p>`, []string{"<p>a</p>", "<p>b</p>"}, []string{"alert", "script"}},
	{"ScriptUpperCase", `<SCRIPT>alert(1)</SCRIPT><p>b</p>`, []string{"<p>b</p>"}, []string{"alert"}},
	{"ScriptMixedCaseSpaces", `<ScRiPt  type="text/javascript" >alert(1)</sCrIpT ><p>b</p>`, []string{"<p>b</p>"}, []string{"alert"}},
	{"ScriptNested", `<scr<script>ipt>alert(1)</script>`, nil, []string{"<script", "<scr"}},
	{"ScriptUnclosed", `<p>a</p><script>alert(1)`, []string{"<p>a</p>"}, []string{"alert"}},
	{"ScriptInAttributeLooking", `<p title="<script>alert(1)</script>">t</p>`, []string{"&lt;script&gt;"}, []string{"<script"}},
	{"Style", `<style>body{display:none}</style><p>x</p>`, []string{"<p>x</p>"}, []string{"display"}},
	{"StyleAttr", `<p style="position:fixed;top:0">x</p>`, []string{"<p>x</p>"}, []string{"style", "fixed"}},
	{"Iframe", `<iframe src="https://evil.example"></iframe><p>x</p>`, []string{"<p>x</p>"}, []string{"iframe", "evil"}},
	{"ObjectEmbed", `<object data="x.swf"><embed src="x.swf"></object><embed src="y.swf"><p>x</p>`, []string{"<p>x</p>"}, []string{"object", "embed", "swf"}},
	{"Base", `<base href="https://evil.example/"><a href="/x">x</a>`, []string{`<a href="/x">x</a>`}, []string{"base", "evil"}},
	{"MetaRefresh", `<meta http-equiv="refresh" content="0;url=https://evil.example"><p>x</p>`, []string{"<p>x</p>"}, []string{"meta", "refresh", "evil"}},
	{"Link", `<link rel="stylesheet" href="https://evil.example/x.css"><p>x</p>`, []string{"<p>x</p>"}, []string{"stylesheet", "evil"}},
	{"EventAttr", `<img src="/a.png" onerror="alert(1)" alt="a">`, []string{`src="/a.png"`, `alt="a"`}, []string{"onerror", "alert"}},
	{"EventAttrUpper", `<p OnMouseOver="alert(1)">x</p>`, []string{"<p>x</p>"}, []string{"alert"}},
	{"EventAttrNoQuotes", `<p onclick=alert(1)>x</p>`, []string{"<p>x</p>"}, []string{"alert"}},
	{"EventAttrSlash", `<img/src="/a.png"/onerror=alert(1)>`, []string{`src="/a.png"`}, []string{"alert"}},
	{"JavascriptHref", `<a href="javascript:alert(1)">x</a>`, []string{"<a>x</a>"}, []string{"javascript", "alert"}},
	{"JavascriptHrefCase", `<a href="JaVaScRiPt:alert(1)">x</a>`, []string{"<a>x</a>"}, []string{"alert"}},
	{"JavascriptHrefLeadingSpace", `<a href="  javascript:alert(1)">x</a>`, []string{"<a>x</a>"}, []string{"alert"}},
	{"JavascriptHrefTab", "<a href=\"java\tscript:alert(1)\">x</a>", []string{"<a>x</a>"}, []string{"alert"}},
	{"JavascriptHrefNewline", "<a href=\"java\nscript:alert(1)\">x</a>", []string{"<a>x</a>"}, []string{"alert"}},
	{"JavascriptHrefEntityTab", `<a href="java&#x09;script:alert(1)">x</a>`, []string{"<a>x</a>"}, []string{"alert"}},
	{"JavascriptHrefEntities", `<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>`, []string{"<a>x</a>"}, []string{"alert"}},
	{"JavascriptHrefNamedColon", `<a href="javascript&colon;alert(1)">x</a>`, []string{"<a>x</a>"}, []string{"alert"}},
	{"JavascriptHrefControlChar", "<a href=\"\x01javascript:alert(1)\">x</a>", []string{"<a>x</a>"}, []string{"alert"}},
	{"VBScript", `<a href="vbscript:msgbox(1)">x</a>`, []string{"<a>x</a>"}, []string{"msgbox"}},
	{"DataHref", `<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>`, []string{"<a>x</a>"}, []string{"data:"}},
	{"UploadImgAndLink", `<img src="/uploads/6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b" alt="p"><a href="/uploads/6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b">plan</a>`,
		[]string{`<img src="/uploads/6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b" alt="p">`, `<a href="/uploads/6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b">plan</a>`}, nil},
	{"DataImgAllowed", `<img src="data:image/png;base64,iVBORw0KGgo=" alt="dot">`, []string{`src="data:image/png;base64,iVBORw0KGgo="`}, nil},
	{"DataImgHTMLRefused", `<img src="data:text/html,<script>alert(1)</script>" alt="x">`, []string{`alt="x"`}, []string{"data:", "alert"}},
	{"DataSourceRefused", `<picture><source src="data:image/png;base64,AAAA"></picture>`, []string{"<picture>"}, []string{"data:"}},
	{"JavascriptSrc", `<img src="javascript:alert(1)" alt="x">`, []string{`alt="x"`}, []string{"alert"}},
	{"JavascriptAction", `<form action="javascript:alert(1)"><button>x</button></form>`, []string{"<form>"}, []string{"alert"}},
	{"FormActionOutside", `<form action="/api/v1/admin/plugins/x/disable" method="post"><button>x</button></form>`, []string{`method="post"`}, []string{"admin"}},
	{"FormActionOtherSite", `<form action="https://evil.example/steal"><input name="q"></form>`, []string{`<input name="q">`}, []string{"evil"}},
	{"FormActionProtocolRelative", `<form action="//evil.example/steal"></form>`, []string{"<form>"}, []string{"evil"}},
	{"FormActionBackslash", `<form action="/\evil.example/steal"></form>`, []string{"<form>"}, []string{"evil"}},
	{"FormActionTabSlash", "<form action=\"/\t/evil.example/hello/x\"></form>", []string{"<form>"}, []string{"evil"}},
	{"FormActionDotDot", `<form action="/hello/../admin/users"></form>`, []string{"<form>"}, []string{"admin"}},
	{"FormActionEncodedDotDot", `<form action="/hello/%2e%2e/admin/users"></form>`, []string{"<form>"}, []string{"admin"}},
	{"FormActionPrefixLookalike", `<form action="/helloworld/x"></form>`, []string{"<form>"}, []string{"helloworld"}},
	{"FormActionOwn", `<form action="/hello/greet" method="post"></form>`, []string{`action="/hello/greet"`}, nil},
	{"FormActionRelativeOwn", `<form action="greet?x=1"></form>`, []string{`action="greet?x=1"`}, nil},
	{"FormActionRelativeEscapes", `<form action="../admin"></form>`, []string{"<form>"}, []string{"admin"}},
	{"FormAction", `<button formaction="/api/v1/me" type="submit">x</button>`, []string{`type="submit"`}, []string{"/api/v1/me"}},
	{"HxGetOutside", `<button hx-get="/api/v1/me">x</button>`, []string{"<button>x</button>"}, []string{"hx-get"}},
	{"HxPostOwn", `<button hx-post="/hello/greet" hx-target="#result" hx-swap="outerHTML">x</button>`, []string{`hx-post="/hello/greet"`, `hx-target="#result"`, `hx-swap="outerHTML"`}, nil},
	{"HxMethodsOutside", `<div hx-put="/x" hx-patch="https://evil.example" hx-delete="//evil.example/hello">x</div>`, []string{"<div>x</div>"}, []string{"hx-", "evil"}},
	{"HxUpperCase", `<button HX-POST="/admin">x</button>`, []string{"<button>x</button>"}, []string{"admin"}},
	{"DataHxOutside", `<button data-hx-post="/admin/users">x</button>`, []string{"<button>x</button>"}, []string{"admin"}},
	{"DataHxOwn", `<button data-hx-get="/hello/greet">x</button>`, []string{`data-hx-get="/hello/greet"`}, nil},
	{"HxOn", `<button hx-on:click="alert(1)" hx-on::after-request="alert(2)" hx-on-click="alert(3)">x</button>`, []string{"<button>x</button>"}, []string{"alert", "hx-on"}},
	{"DataHxOn", `<button data-hx-on:click="alert(1)">x</button>`, []string{"<button>x</button>"}, []string{"alert"}},
	{"HxValsJS", `<button hx-vals="js:{a: alert(1)}">x</button>`, []string{"<button>x</button>"}, []string{"alert"}},
	{"HxValsJavascript", `<button hx-vals=" javascript:alert(1)">x</button>`, []string{"<button>x</button>"}, []string{"alert"}},
	{"HxValsControlBeforeJS", "<button hx-vals=\"\x05jAvAsCript:alert(1)\">x</button>", []string{"<button>x</button>"}, []string{"alert"}},
	{"HxValsTabInsideJS", "<button hx-vals=\"ja\tvascript:alert(1)\">x</button>", []string{"<button>x</button>"}, []string{"alert"}},
	{"HxValsJSON", `<button hx-vals='{"a":"b"}'>x</button>`, []string{`hx-vals=`}, nil},
	{"HxHeadersJS", `<button hx-headers="js:{X: alert(1)}">x</button>`, []string{"<button>x</button>"}, []string{"alert"}},
	{"HxVars", `<button hx-vars="a:alert(1)">x</button>`, []string{"<button>x</button>"}, []string{"alert"}},
	{"HxTriggerFilter", `<button hx-get="/hello/x" hx-trigger="click[alert(1)]">x</button>`, []string{`hx-get="/hello/x"`}, []string{"alert"}},
	{"HxExt", `<div hx-ext="evil-ext">x</div>`, []string{"<div>x</div>"}, []string{"evil"}},
	{"HxSwapOOB", `<div id="nav" hx-swap-oob="true">x</div>`, []string{`id="nav"`}, []string{"oob"}},
	{"HxTargetFrame", `<button hx-get="/hello/x" hx-target="#kv-status">x</button><button hx-get="/hello/x" hx-target="body">y</button>`, []string{`hx-get="/hello/x"`}, []string{"kv-status", "body"}},
	{"HxTargetCSSEscape", `<button hx-get="/hello/x" hx-target="#k\76 -status">x</button>`, []string{`hx-get="/hello/x"`}, []string{"hx-target"}},
	{"HxTargetAttrSelector", `<button hx-get="/hello/x" hx-target="[id^=k]">x</button><button hx-include="div, #kv-main">y</button>`, []string{`hx-get="/hello/x"`}, []string{"hx-target", "hx-include"}},
	{"HxTargetRelative", `<button hx-get="/hello/x" hx-target="closest form" hx-indicator="#spinner">x</button>`, []string{`hx-target="closest form"`, `hx-indicator="#spinner"`}, nil},
	{"HxPushURLOutside", `<a href="/hello/x" hx-get="/hello/x" hx-push-url="https://evil.example/">x</a>`, []string{`href="/hello/x"`}, []string{"evil"}},
	{"FrameID", `<p id="kv-status">x</p><p id="KV-main">y</p>`, []string{"<p>x</p>", "<p>y</p>"}, []string{"kv-"}},
	{"WebKitErrorSummary", `<div class="ds-error-summary kv-error-summary" id="kv-error-summary" tabindex="-1"><h2>x</h2></div>`, []string{`id="kv-error-summary"`, `class="ds-error-summary kv-error-summary"`}, nil},
	{"FrameForm", `<button form="kv-signout">x</button>`, []string{"<button>x</button>"}, []string{"kv-"}},
	{"SVGScript", `<svg><script>alert(1)</script></svg><p>x</p>`, []string{"<p>x</p>"}, []string{"alert", "svg"}},
	{"SVGOnload", `<svg onload="alert(1)"><circle r="1"/></svg><p>x</p>`, []string{"<p>x</p>"}, []string{"alert", "circle"}},
	{"SVGStyleBreakout", `<svg><style></svg><img src=x onerror=alert(1)></style></svg><p>x</p>`, nil, []string{"alert", "onerror"}},
	{"SVGAnimateHref", `<svg><a><animate attributeName="href" values="javascript:alert(1)"/><text>x</text></a></svg>`, nil, []string{"alert", "animate"}},
	{"MathML", `<math><mi xlink:href="javascript:alert(1)">x</mi></math><p>y</p>`, []string{"<p>y</p>"}, []string{"alert", "math"}},
	{"MathMLStyleBreakout", `<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`, nil, []string{"alert", "onerror"}},
	{"NamespacedScript", `<svg:script>alert(1)</svg:script><p>x</p>`, nil, []string{"alert"}},
	{"Template", `<template><script>alert(1)</script></template><p>x</p>`, []string{"<p>x</p>"}, []string{"alert"}},
	{"Noscript", `<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript><p>x</p>`, nil, []string{"onerror", "alert"}},
	{"UnclosedAttribute", `<a href="/x" title="unclosed><script>alert(1)</script><p>after</p>`, nil, []string{"<script"}},
	{"UnclosedTagAtEnd", `<p>x</p><img src="/a.png" onerror="alert(1)"`, []string{"<p>x</p>"}, []string{"alert"}},
	{"Comment", `<!-- <script>alert(1)</script> --><p>x</p>`, []string{"<p>x</p>"}, []string{"alert"}},
	{"ConditionalComment", `<!--[if IE]><script>alert(1)</script><![endif]--><p>x</p>`, []string{"<p>x</p>"}, []string{"alert"}},
	{"CDATA", `<![CDATA[<script>alert(1)</script>]]><p>x</p>`, nil, []string{"<script"}},
	{"CloseFrameMain", `<p>x</p></main><script>alert(1)</script></body><p>y</p>`, []string{"<p>x</p>", "<p>y</p>"}, []string{"</main>", "</body>", "alert"}},
	{"UnclosedTextarea", `<textarea name="a">`, []string{`<textarea name="a"></textarea>`}, nil},
	{"UnclosedElements", `<div><table><tr><td><select><option>a`, []string{"</option></select></td></tr></table></div>"}, nil},
	{"UnknownElementKeepsText", `<blink>hi</blink><custom-el onclick="x">there</custom-el>`, []string{"hi", "there"}, []string{"blink", "custom", "onclick"}},
	{"Srcset", `<img src="/a.png" srcset="javascript:alert(1) 1x" alt="a">`, []string{`src="/a.png"`}, []string{"srcset", "alert"}},
	{"DuplicateAttrFirstWins", `<a href="/ok" href="javascript:alert(1)">x</a>`, []string{`href="/ok"`}, []string{"alert"}},
	{"TextEscaped", `<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>`, []string{"&lt;script&gt;"}, []string{"<script"}},
	{"NulBytes", "<scr\x00ipt>alert(1)</script><p>x\x00</p>", nil, []string{"<script", "\x00"}},
	{"AllowedMarkup", `<h2 id="sum" tabindex="-1">Sum</h2><label for="m">M</label><input id="m" name="m" aria-describedby="m-hint" aria-invalid="true" required><p id="m-hint" class="hint" lang="fi">V</p>`,
		[]string{`<h2 id="sum" tabindex="-1">Sum</h2>`, `aria-describedby="m-hint"`, `aria-invalid="true"`, `lang="fi"`, `class="hint"`, "required"}, nil},
	{"MailtoTel", `<a href="mailto:kirjaamo@hel.fi">m</a><a href="tel:+358912345">t</a><a href="https://www.hel.fi/">h</a>`, []string{"mailto:", "tel:", "https://www.hel.fi/"}, nil},
}

func TestFilterHTML(t *testing.T) {
	for _, c := range filterCases {
		t.Run(c.name, func(t *testing.T) {
			out := string(pluginhost.FilterHTML([]byte(c.in), "hello", "/hello/greet"))
			for _, k := range c.keep {
				if !strings.Contains(out, k) {
					t.Errorf("lost %q\n in: %s\nout: %s", k, c.in, out)
				}
			}
			for _, d := range c.drop {
				if strings.Contains(strings.ToLower(out), strings.ToLower(d)) {
					t.Errorf("let %q through\n in: %s\nout: %s", d, c.in, out)
				}
			}
			checkFiltered(t, c.in, out)
		})
	}
}

// checkFiltered checks what every filtered output must be, whatever came in: parsed
// inside the frame as a browser would parse it, it holds no script, styles, foreign
// content or event handlers, sends requests only to the plugin's own pages, takes no
// frame id, stays inside <main>, and filtering it again changes nothing.
func checkFiltered(t *testing.T, in, out string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(`<!DOCTYPE html><html><head><title>t</title></head><body><header id="kv-header">h</header><main id="kv-main">` +
		out + `</main><footer id="kv-footer">f</footer></body></html>`))
	if err != nil {
		t.Fatal(err)
	}
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("in: %q\nout: %q\n"+format, append([]any{in, out}, args...)...)
	}
	base, _ := url.Parse("/hello/greet")
	var mains, footers int
	var walk func(n *html.Node, inMain bool)
	walk = func(n *html.Node, inMain bool) {
		childInMain := inMain
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "style", "iframe", "object", "embed", "base", "meta", "link", "svg", "math", "template", "frame", "frameset", "noscript":
				if inMain || n.Data == "script" || n.Data == "style" {
					fail("element <%s> on the page", n.Data)
				}
			case "main":
				mains++
				childInMain = true
			case "footer":
				if attr(n, "id") == "kv-footer" {
					footers++
					if inMain || n.Parent == nil || n.Parent.Data != "body" {
						fail("the frame's footer was moved into the plugin's content")
					}
				}
			}
			for _, a := range n.Attr {
				k := strings.ToLower(a.Key)
				v := strings.ToLower(strings.Map(func(r rune) rune {
					if r <= 0x20 {
						return -1
					}
					return r
				}, a.Val))
				if !inMain {
					continue
				}
				if strings.HasPrefix(k, "on") || k == "style" || k == "srcset" || strings.Contains(k, "hx-on") || k == "hx-vars" || k == "hx-ext" || strings.HasSuffix(k, "-oob") {
					fail("attribute %s on <%s>", a.Key, n.Data)
				}
				if strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "js:") {
					fail("script URL in %s", a.Key)
				}
				if strings.HasPrefix(v, "data:") && !(n.Data == "img" && k == "src" && strings.HasPrefix(v, "data:image/")) {
					fail("data: URL in %s of <%s>", a.Key, n.Data)
				}
				if (k == "id" || k == "form") && strings.HasPrefix(v, "kv-") && v != "kv-error-summary" {
					fail("frame id %q taken", a.Val)
				}
				switch strings.TrimPrefix(k, "data-") {
				case "hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete", "action", "formaction":
					u, err := url.Parse(strings.TrimSpace(a.Val))
					if err != nil {
						fail("unparsable %s %q", a.Key, a.Val)
						continue
					}
					r := base.ResolveReference(u)
					if r.Host != "" || r.Scheme != "" || (r.Path != "/hello" && !strings.HasPrefix(r.Path, "/hello/")) || strings.Contains(a.Val, `\`) {
						fail("%s leads outside the plugin: %q", a.Key, a.Val)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, childInMain)
		}
	}
	walk(doc, false)
	if mains != 1 || footers != 1 {
		fail("the frame broke: %d <main>, %d footers", mains, footers)
	}
	if again := string(pluginhost.FilterHTML([]byte(out), "hello", "/hello/greet")); again != out {
		fail("filtering again changed it:\n%q", again)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// FuzzFilterHTML holds every output to checkFiltered, whatever the input.
func FuzzFilterHTML(f *testing.F) {
	for _, c := range filterCases {
		f.Add([]byte(c.in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := pluginhost.FilterHTML(in, "hello", "/hello/greet")
		if bytes.Contains(bytes.ToLower(out), []byte("<script")) {
			t.Fatalf("script got through: %q -> %q", in, out)
		}
		checkFiltered(t, string(in), string(out))
	})
}
