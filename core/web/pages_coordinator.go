package web

import (
	"net/http"
	"slices"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
	sdkweb "github.com/kvarter/kvarter/sdk/web"
)

// The coordinators' pages of their neighbourhood: the queue of requests to join, with
// approve and reject, and the members. The neighbourhood service decides who may see
// and answer them (core.membership.decide in the neighbourhood, as for the API): the
// pages ask it and show its 403 as the panel.

func init() {
	flashes = append(flashes, "core.flash.approved", "core.flash.rejected")
}

// coordinatorRoutes adds the coordinators' pages to mux.
func (p *Pages) coordinatorRoutes(mux *http.ServeMux) {
	mux.Handle("GET /neighbourhoods/{id}/requests", p.handle(p.requests))
	mux.Handle("POST /neighbourhoods/{id}/requests/{user}/approve", p.handle(p.approve))
	mux.Handle("GET /neighbourhoods/{id}/requests/{user}/reject", p.handle(p.rejectForm))
	mux.Handle("POST /neighbourhoods/{id}/requests/{user}/reject", p.handle(p.reject))
	mux.Handle("GET /neighbourhoods/{id}/members", p.handle(p.members))
}

// requestsView is the queue of one neighbourhood.
type requestsView struct {
	Hood     *core.Neighbourhood
	Requests []core.Membership
	Refusal  string // why the last answer could not be given, in the viewer's words
	Pages    sdkweb.Pagination
}

func (p *Pages) requests(w http.ResponseWriter, r *http.Request) error {
	return p.renderRequests(w, r, http.StatusOK, "")
}

func (p *Pages) renderRequests(w http.ResponseWriter, r *http.Request, status int, refusal string) error {
	hood, list, pages, err := p.hoodMemberships(r, core.MembershipRequested)
	if err != nil {
		return err
	}
	loc := p.tmpl.Localizer(viewerOf(r).lang)
	data := requestsView{Hood: hood, Requests: list, Pages: pages}
	meta := p.hoodMeta(r, hood, "core.requests.title")
	if refusal != "" {
		data.Refusal = loc.T(refusal)
		meta.Announce = data.Refusal
	}
	return p.render(w, r, status, "requests", data, meta)
}

// hoodMemberships is one page (the query's cursor) of the path's neighbourhood's
// memberships in state, for a signed-in viewer; the service refuses anyone who may not
// decide them there.
func (p *Pages) hoodMemberships(r *http.Request, state string) (*core.Neighbourhood, []core.Membership, sdkweb.Pagination, error) {
	if _, err := signedIn(r); err != nil {
		return nil, nil, sdkweb.Pagination{}, err
	}
	ctx := r.Context()
	hood, err := p.svc.Neighbourhoods.FindNeighbourhood(ctx, r.PathValue("id"))
	if err != nil {
		return nil, nil, sdkweb.Pagination{}, err
	}
	list, next, err := p.svc.Neighbourhoods.ListMemberships(ctx, hood.ID, state, core.Page{Cursor: r.URL.Query().Get("cursor")})
	if err != nil {
		return nil, nil, sdkweb.Pagination{}, err
	}
	return hood, list, sdkweb.Pagination{Next: sdkweb.CursorURL(r.URL, next)}, nil
}

// hoodMeta titles a coordinator's page with the neighbourhood's name, under the
// neighbourhood in the breadcrumbs.
func (p *Pages) hoodMeta(r *http.Request, hood *core.Neighbourhood, title string) sdk.PageMeta {
	loc := p.tmpl.Localizer(viewerOf(r).lang)
	return sdk.PageMeta{Title: loc.T(title, map[string]any{"Name": hood.Name}),
		Breadcrumbs: []sdk.Crumb{{Label: hood.Name, Href: "/neighbourhoods/" + hood.ID}}}
}

// approve approves one person's request, as POST
// /api/v1/neighbourhoods/{id}/memberships/{userID}/approve does.
func (p *Pages) approve(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	_, err := p.svc.Neighbourhoods.DecideMembership(r.Context(), id, r.PathValue("user"), "approve", "")
	if core.ErrorCode(err) == core.ECONFLICT {
		// Answered already (by another coordinator), or the person belongs to as
		// many neighbourhoods as the city allows.
		return p.renderRequests(w, r, http.StatusConflict, "core.requests.not_approved")
	}
	if err != nil {
		return err
	}
	p.flash(w, r, "core.flash.approved")
	sdkweb.Redirect(w, r, "/neighbourhoods/"+id+"/requests")
	return nil
}

// rejectView is the form that rejects one person's request, with a reason.
type rejectView struct {
	Hood    *core.Neighbourhood
	Request core.Membership
	Form    *sdkweb.Form
}

// pending finds the open request of the path's person in the path's neighbourhood,
// through the coordinators' own list (which refuses everyone else).
func (p *Pages) pending(r *http.Request) (*core.Neighbourhood, *core.Membership, error) {
	ctx := r.Context()
	hood, err := p.svc.Neighbourhoods.FindNeighbourhood(ctx, r.PathValue("id"))
	if err != nil {
		return nil, nil, err
	}
	list, err := allPages(func(page core.Page) ([]core.Membership, string, error) {
		return p.svc.Neighbourhoods.ListMemberships(ctx, hood.ID, core.MembershipRequested, page)
	})
	if err != nil {
		return nil, nil, err
	}
	i := slices.IndexFunc(list, func(m core.Membership) bool { return m.UserID == r.PathValue("user") })
	if i < 0 {
		return nil, nil, core.Errorf(core.ENOTFOUND, "No such request waits in this neighbourhood.")
	}
	return hood, &list[i], nil
}

func (p *Pages) rejectForm(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	hood, m, err := p.pending(r)
	if err != nil {
		return err
	}
	return p.renderReject(w, r, http.StatusOK, hood, m, sdkweb.NewForm(nil))
}

func (p *Pages) renderReject(w http.ResponseWriter, r *http.Request, status int, hood *core.Neighbourhood, m *core.Membership, form *sdkweb.Form) error {
	loc := p.tmpl.Localizer(viewerOf(r).lang)
	meta := sdk.PageMeta{Title: loc.T("core.reject.title", map[string]any{"Name": m.DisplayName}),
		Breadcrumbs: []sdk.Crumb{{Label: hood.Name, Href: "/neighbourhoods/" + hood.ID},
			{Label: loc.T("core.requests.title", map[string]any{"Name": hood.Name}), Href: "/neighbourhoods/" + hood.ID + "/requests"}}}
	if !form.Valid() {
		meta.Focus = sdkweb.ErrorSummaryID
	}
	return p.render(w, r, status, "reject", rejectView{Hood: hood, Request: *m, Form: form}, meta)
}

// reject rejects one person's request with the reason they will see, as POST
// /api/v1/neighbourhoods/{id}/memberships/{userID}/reject does.
func (p *Pages) reject(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	hood, m, err := p.pending(r)
	if err != nil {
		return err
	}
	var in reasonInput
	form, err := sdkweb.Decode(r, &in)
	if err != nil {
		return err
	}
	if form.Valid() {
		conflict, err := decideWithReason(form, in.Reason, true, "core.reject", func() error {
			_, err := p.svc.Neighbourhoods.DecideMembership(r.Context(), hood.ID, m.UserID, "reject", in.Reason)
			return err
		})
		if err != nil {
			return err
		}
		if conflict {
			return p.renderRequests(w, r, http.StatusConflict, "core.requests.not_rejected")
		}
	}
	if !form.Valid() {
		return p.renderReject(w, r, http.StatusUnprocessableEntity, hood, m, form)
	}
	p.flash(w, r, "core.flash.rejected")
	sdkweb.Redirect(w, r, "/neighbourhoods/"+hood.ID+"/requests")
	return nil
}

// membersView is a neighbourhood's verified members, a page at a time.
type membersView struct {
	Hood    *core.Neighbourhood
	Members sdkweb.Table
	Pages   sdkweb.Pagination
}

func (p *Pages) members(w http.ResponseWriter, r *http.Request) error {
	hood, list, pages, err := p.hoodMemberships(r, core.MembershipVerified)
	if err != nil {
		return err
	}
	loc := p.tmpl.Localizer(viewerOf(r).lang)
	data := membersView{Hood: hood, Pages: pages, Members: sdkweb.Table{
		Caption:    loc.T("core.members.caption", map[string]any{"Name": hood.Name}),
		Columns:    []sdkweb.Column{{Label: loc.T("core.members.name")}, {Label: loc.T("core.members.since")}},
		RowHeaders: true,
	}}
	for _, m := range list {
		since := m.UpdatedAt
		if m.VerifiedAt != nil {
			since = *m.VerifiedAt
		}
		data.Members.Rows = append(data.Members.Rows, []sdkweb.Cell{{Text: m.DisplayName}, {Text: loc.Date(since)}})
	}
	return p.render(w, r, http.StatusOK, "members", data, p.hoodMeta(r, hood, "core.members.title"))
}
