package web

import (
	"bytes"
	"html/template"
	"strconv"
	"testing"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
)

// TestFrameParts_SameAsTemplate: the frame written from its parts is, byte for byte,
// the frame template executed with the same values, in every language and shape, for
// values html/template escapes (quotes, ampersands, plus, angle brackets, NUL, bytes
// that are not UTF-8) and values that look like the markers.
func TestFrameParts_SameAsTemplate(t *testing.T) {
	p, err := New(Services{}, Options{CityName: `Åbo & "Turku" <kaupunki>`, LogoURL: "/logo.svg?a=1&b=2",
		Languages: []string{"fi", "sv", "da", "tr", "en"}})
	if err != nil {
		t.Fatal(err)
	}
	values := []frameView{
		{Title: "Kirjasto", FullTitle: "Kirjasto – Turku", Name: "Aino Ääninen", Back: "/kirjasto", Flash: "", Announce: ""},
		{Title: `<script>alert("x")</script>`, FullTitle: `a+b's "c" & <d>`, Name: "O'Brien <b>&amp;</b> +1",
			Back: `/x?a="1"&b='2'+3`, Flash: "\x00nul\xffbad", Announce: "Haku päivitetty: 3 + 4 < 8"},
		{Title: p.frames.marker + "03z", Name: p.frames.marker, Back: "/" + p.frames.marker + "99z", Flash: "x", Announce: p.frames.marker + "05z"},
	}
	lists := []frameView{
		{},
		{NavHTML: `<li><a href="/">Etusivu</a></li>`, NotifyHTML: `<li><a href="/notifications">Ilmoitukset</a></li>`, CrumbsHTML: `<nav>crumbs</nav>`, CardsHTML: `<section>cards</section>`},
	}
	for _, lang := range []string{"fi", "sv", "da", "tr", "en", i18n.Pseudo} {
		for _, frame := range []string{"page", "fragment"} {
			for _, signedIn := range []bool{false, true} {
				for _, heading := range []bool{false, true} {
					for vi, val := range values {
						for _, list := range lists {
							fv := val
							fv.Lang, fv.City, fv.Logo, fv.Styles, fv.Scripts = lang, p.opts.CityName, p.opts.LogoURL, p.opts.Stylesheets, p.opts.Scripts
							fv.Languages = p.languages(lang)
							fv.NavHTML, fv.NotifyHTML, fv.CrumbsHTML, fv.CardsHTML = list.NavHTML, list.NotifyHTML, list.CrumbsHTML, list.CardsHTML
							fv.Content = template.HTML("<p>content " + p.frames.marker + "</p>")
							fv.SignedIn, fv.Heading, fv.Frame = signedIn, heading, frame
							name := "core-frame"
							if frame == "fragment" {
								name = "core-fragment"
							}
							var want bytes.Buffer
							if err := p.tmpl.For(lang).ExecuteTemplate(&want, name, fv); err != nil {
								t.Fatal(err)
							}
							parts, err := p.framePartsFor(framePartsKey{lang: lang, frame: frame, signedIn: signedIn, heading: heading, flash: fv.Flash != ""}, fv)
							if err != nil {
								t.Fatal(err)
							}
							var got, fromBody bytes.Buffer
							parts.write(&got, &fv)
							// The content as the frame passes it: bytes, not a string.
							fb := fv
							fb.body, fb.Content = []byte(fv.Content), ""
							parts.write(&fromBody, &fb)
							if got.String() != want.String() || fromBody.String() != want.String() {
								t.Fatalf("%s %s signed in %v heading %v values %d: the parts write\n%s\nthe template\n%s", lang, frame, signedIn, heading, vi, got.String(), want.String())
							}
						}
					}
				}
			}
		}
	}
}

// TestHomeParts_SameAsTemplate: the home page's content written from its parts is the
// home template executed with the viewer's name.
func TestHomeParts_SameAsTemplate(t *testing.T) {
	p, err := New(Services{}, Options{CityName: "Turku & Åbo", Languages: []string{"fi", "sv", "da", "tr", "en"}})
	if err != nil {
		t.Fatal(err)
	}
	hoods := []core.Neighbourhood{{ID: "n1", Name: `Port Arthur <"&'+>`}, {ID: "n2?x=1&y", Name: "Martti"}}
	for _, lang := range []string{"fi", "sv", "da", "tr", "en", i18n.Pseudo} {
		tmpl := p.tmpl.For(lang)
		for _, list := range [][]core.Neighbourhood{nil, hoods} {
			for _, signedIn := range []bool{false, true} {
				parts, err := p.drawHome(homeKey{tmpl: tmpl, signedIn: signedIn}, list)
				if err != nil {
					t.Fatal(err)
				}
				for _, name := range []string{"Aino", `O'Brien <b>&amp;</b> "+1"` + "\x00\xff", p.frames.marker + "02z"} {
					var cards, want, got bytes.Buffer
					if err := tmpl.ExecuteTemplate(&cards, "home-neighbourhoods", list); err != nil {
						t.Fatal(err)
					}
					data := homeView{City: p.opts.CityName, SignedIn: signedIn, Name: name, Neighbourhoods: template.HTML(cards.String())}
					if err := tmpl.ExecuteTemplate(&want, "home", data); err != nil {
						t.Fatal(err)
					}
					parts.write(&got, &frameView{Name: name})
					if got.String() != want.String() {
						t.Fatalf("%s signed in %v name %q: the parts write\n%s\nthe template\n%s", lang, signedIn, name, got.String(), want.String())
					}
				}
			}
		}
	}
}

// TestListHTML_Bounded: the drawn lists are kept up to maxListCache, then the cache
// starts again; a list drawn from the cache is the one drawn fresh.
func TestListHTML_Bounded(t *testing.T) {
	p, err := New(Services{}, Options{Languages: []string{"fi", "en"}})
	if err != nil {
		t.Fatal(err)
	}
	tmpl, loc := p.tmpl.For("fi"), p.tmpl.Localizer("fi")
	kept := func() int {
		p.lists.mu.RLock()
		defer p.lists.mu.RUnlock()
		return len(p.lists.m)
	}
	for i := range maxListCache + 2 {
		path, meta := "/parks/"+strconv.Itoa(i), sdk.PageMeta{Title: "Varaus " + strconv.Itoa(i)}
		crumbs := []crumb{{Label: "Etusivu", Href: "/"}, {Label: meta.Title, Href: path, Current: true}}
		fresh, err := execHTML(tmpl, "core-crumbs", crumbs)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			got, err := p.crumbsHTML(tmpl, loc, "fi", path, meta)
			if err != nil {
				t.Fatal(err)
			}
			if got != fresh {
				t.Fatalf("list %d: kept %q, drawn %q", i, got, fresh)
			}
		}
		if n := kept(); n > maxListCache {
			t.Fatalf("%d lists kept", n)
		}
	}
	if n := kept(); n != 2 {
		t.Fatalf("%d lists kept after starting again, want 2", n)
	}
}

// TestCrumbsHTML_KeyedByContent: breadcrumbs whose fields would run together in a
// key of plain or NUL-separated strings are kept apart: "a" + "/b" against "a/" + "b",
// and two crumbs against one href holding their separators.
func TestCrumbsHTML_KeyedByContent(t *testing.T) {
	p, err := New(Services{}, Options{Languages: []string{"fi", "en"}})
	if err != nil {
		t.Fatal(err)
	}
	tmpl, loc := p.tmpl.For("fi"), p.tmpl.Localizer("fi")
	for _, m := range []sdk.PageMeta{
		{Title: "x", Breadcrumbs: []sdk.Crumb{{Label: "a", Href: "/b"}, {Label: "c", Href: "/d"}}},
		{Title: "x", Breadcrumbs: []sdk.Crumb{{Label: "a", Href: "/b\x00c\x00/d"}}},
		{Title: "x", Breadcrumbs: []sdk.Crumb{{Label: "a/", Href: "b"}, {Label: "c", Href: "/d"}}},
	} {
		got, err := p.crumbsHTML(tmpl, loc, "fi", "/p", m)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := execHTML(tmpl, "core-crumbs", crumbs(loc, "/p", m))
		if got != want {
			t.Errorf("%q: kept %q, drawn %q", m.Breadcrumbs, got, want)
		}
	}
}
