package web

import (
	"net/http"

	"github.com/kvarter/kvarter/core"
	sdkweb "github.com/kvarter/kvarter/sdk/web"
)

// The API tokens page: a person makes, names, scopes and revokes their personal API
// tokens in the browser, through the same identity service as /api/v1/me/tokens.

func init() {
	flashes = append(flashes, "core.flash.token_revoked")
}

// tokenRoutes adds the API tokens page to mux.
func (p *Pages) tokenRoutes(mux *http.ServeMux) {
	mux.Handle("GET /me/tokens", p.handle(p.tokensPage))
	mux.Handle("POST /me/tokens", p.handle(p.createToken))
	mux.Handle("POST /me/tokens/{id}/revoke", p.handle(p.revokeToken))
}

// tokensView is the page: the person's tokens, the form to make one, and a token just
// made, shown this once.
type tokensView struct {
	Tokens []tokenRow
	Form   *sdkweb.Form
	Scopes []sdkweb.Option
	New    *core.NewToken
}

// tokenRow is one token as the table shows it, dates in the viewer's language.
type tokenRow struct {
	ID, Name, Scope, Created, LastUsed string
}

// maxTokensShown bounds the table; nobody keeps more tokens than this in use.
const maxTokensShown = 100

func (p *Pages) tokensPage(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	form := sdkweb.NewForm(nil)
	form.Set("scope", core.ScopeRead) // the least a script needs, unless the person asks for more
	return p.renderTokens(w, r, http.StatusOK, form, nil)
}

// tokenInput is the form as posted.
type tokenInput struct {
	Name  string `json:"name" max:"100"`
	Scope string `json:"scope" max:"10"`
}

// createToken makes a token and shows it on the page it answers with: the secret
// exists only in this answer, so there is no redirect to lose it in, and the answer
// is never stored by the browser or a proxy.
func (p *Pages) createToken(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	var in tokenInput
	form, err := sdkweb.Decode(r, &in)
	if err != nil {
		return err
	}
	if in.Name == "" {
		form.Invalid("name", "web.rule.required", nil)
	}
	if in.Scope != core.ScopeRead && in.Scope != core.ScopeFull {
		form.Invalid("scope", "core.tokens.scope.required", nil)
	}
	if !form.Valid() {
		return p.renderTokens(w, r, http.StatusUnprocessableEntity, form, nil)
	}
	tok, err := p.svc.Identity.CreateToken(r.Context(), in.Name, in.Scope)
	if core.ErrorCode(err) == core.EINVALID {
		form.Catch(sdkError(err), "core.tokens")
		return p.renderTokens(w, r, http.StatusUnprocessableEntity, form, nil)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	fresh := sdkweb.NewForm(nil)
	fresh.Set("scope", core.ScopeRead)
	return p.renderTokens(w, r, http.StatusOK, fresh, tok)
}

func (p *Pages) revokeToken(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	// The service revokes only the person's own token; another's answers not found.
	if err := p.svc.Identity.RevokeToken(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	p.flash(w, r, "core.flash.token_revoked")
	sdkweb.Redirect(w, r, "/me/tokens")
	return nil
}

func (p *Pages) renderTokens(w http.ResponseWriter, r *http.Request, status int, form *sdkweb.Form, fresh *core.NewToken) error {
	tokens, _, err := p.svc.Identity.ListTokens(r.Context(), core.Page{Limit: maxTokensShown})
	if err != nil {
		return err
	}
	loc := p.tmpl.Localizer(viewerOf(r).lang)
	data := tokensView{Form: form, New: fresh, Scopes: []sdkweb.Option{
		{Value: core.ScopeRead, Label: loc.T("core.tokens.scope.read"), Hint: loc.T("core.tokens.scope.read_hint")},
		{Value: core.ScopeFull, Label: loc.T("core.tokens.scope.full"), Hint: loc.T("core.tokens.scope.full_hint")},
	}}
	for _, t := range tokens {
		row := tokenRow{ID: t.ID, Name: t.Name, Scope: loc.T("core.tokens.scope." + t.Scope), Created: loc.Date(t.CreatedAt),
			LastUsed: loc.Date(t.LastSeenAt)}
		data.Tokens = append(data.Tokens, row)
	}
	meta := p.formMeta(r, "core.tokens.title", form)
	if fresh != nil {
		meta.Focus = "new-token"
		meta.Announce = loc.T("core.tokens.new.heading")
	}
	return p.render(w, r, status, "tokens", data, meta)
}
