package web

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
	sdkweb "github.com/kvarter/kvarter/sdk/web"
)

// The city admins' pages about places and groups: the neighbourhoods (a tree, with
// the archived ones), the organisations by state with their members, and the plugins
// with their states; and the coordinators' list of their neighbourhood's
// organisations. Each page calls the service the API calls, which authorises the
// change; the pages themselves are only for those holding the permission the service
// asks for its changes (Services.Authz), so nobody sees a form they may not send.

func init() {
	flashes = append(flashes, "core.places.flash.hood_created", "core.places.flash.hood_saved",
		"core.places.flash.hood_archived", "core.places.flash.hood_unarchived",
		"core.places.flash.org_verified", "core.places.flash.org_rejected",
		"core.places.flash.member_added", "core.places.flash.member_role", "core.places.flash.member_removed",
		"core.places.flash.plugin_enable", "core.places.flash.plugin_disable", "core.places.flash.plugin_restart")
}

// adminPlacesRoutes adds the city admins' pages about places and groups to mux.
func (p *Pages) adminPlacesRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/neighbourhoods", p.handle(p.hoods))
	mux.Handle("POST /admin/neighbourhoods", p.handle(p.createHood))
	mux.Handle("GET /admin/neighbourhoods/{id}", p.handle(p.hoodForm))
	mux.Handle("POST /admin/neighbourhoods/{id}", p.handle(p.saveHood))
	mux.Handle("POST /admin/neighbourhoods/{id}/archive", p.handle(p.archiveHood))
	mux.Handle("GET /admin/organisations", p.handle(p.orgs))
	mux.Handle("GET /admin/organisations/{id}", p.handle(p.org))
	mux.Handle("POST /admin/organisations/{id}/verify", p.handle(p.decideOrg("verify", "core.places.flash.org_verified")))
	mux.Handle("POST /admin/organisations/{id}/reject", p.handle(p.decideOrg("reject", "core.places.flash.org_rejected")))
	mux.Handle("POST /admin/organisations/{id}/members", p.handle(p.addMember))
	mux.Handle("POST /admin/organisations/{id}/members/{user}/role", p.handle(p.memberRole))
	mux.Handle("POST /admin/organisations/{id}/members/{user}/remove", p.handle(p.removeMember))
	mux.Handle("GET /admin/plugins", p.handle(p.plugins))
	mux.Handle("POST /admin/plugins/{name}/{action}", p.handle(p.pluginAction))
	mux.Handle("GET /neighbourhoods/{id}/organisations", p.handle(p.hoodOrgs))
}

// allowed answers nil when the signed-in viewer holds permission in domain, the
// authorizer the services ask; a visitor is sent to sign in, anyone else gets 403.
func (p *Pages) allowed(r *http.Request, permission, domain string) error {
	v, err := signedIn(r)
	if err != nil {
		return err
	}
	if p.svc.Authz == nil || !p.svc.Authz.Can(v.principal, permission, domain) {
		return core.Errorf(core.EFORBIDDEN, "You may not open this page.")
	}
	return nil
}

// Neighbourhoods.

// hoodInput is the neighbourhood form: core.NeighbourhoodInput's fields as a form
// sends them (no parent is "", the boundary GeoJSON text).
type hoodInput struct {
	Name     string `json:"name" max:"100"`
	Slug     string `json:"slug" max:"64"`
	ParentID string `json:"parent_id" max:"64"`
	Boundary string `json:"boundary" max:"600000"`
}

// hoodNode is one neighbourhood in the tree, with the ones that name it as parent.
type hoodNode struct {
	core.Neighbourhood
	Children []*hoodNode
}

// hoodsView is the tree of neighbourhoods and the form that adds one.
type hoodsView struct {
	Tree    []*hoodNode
	Form    *sdkweb.Form
	Parents []sdkweb.Option
}

// hoodView is one neighbourhood's form, and the button that archives it.
type hoodView struct {
	Hood    *core.Neighbourhood
	Form    *sdkweb.Form
	Parents []sdkweb.Option
}

// allPages collects every page of a list the services hand out a page at a time: the
// admins' pages show whole trees and count members, which no single page holds.
func allPages[T any](list func(core.Page) ([]T, string, error)) ([]T, error) {
	var out []T
	page := core.Page{Limit: core.MaxPageLimit}
	for {
		items, next, err := list(page)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if next == "" {
			return out, nil
		}
		page.Cursor = next
	}
}

// allHoods is every neighbourhood, archived ones too, by name.
func (p *Pages) allHoods(r *http.Request) ([]core.Neighbourhood, error) {
	out, err := allPages(func(page core.Page) ([]core.Neighbourhood, string, error) {
		return p.svc.Neighbourhoods.ListNeighbourhoods(r.Context(), true, page)
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b core.Neighbourhood) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// hoodTree puts each neighbourhood under its parent; one whose parent is missing is
// a root, so none is left out.
func hoodTree(all []core.Neighbourhood) []*hoodNode {
	nodes := make(map[string]*hoodNode, len(all))
	for _, n := range all {
		nodes[n.ID] = &hoodNode{Neighbourhood: n}
	}
	var roots []*hoodNode
	for _, n := range all {
		node := nodes[n.ID]
		if n.ParentID != nil && nodes[*n.ParentID] != nil && *n.ParentID != n.ID {
			parent := nodes[*n.ParentID]
			parent.Children = append(parent.Children, node)
			continue
		}
		roots = append(roots, node)
	}
	return roots
}

// parentChoices are the neighbourhoods a neighbourhood may name as parent: those not
// archived, but never itself (hood is nil when adding one). Its parent stays a choice
// even when archived, marked so, so that its form shows where it belongs.
func (p *Pages) parentChoices(r *http.Request, all []core.Neighbourhood, hood *core.Neighbourhood) []sdkweb.Option {
	loc := p.tmpl.Localizer(viewerOf(r).lang)
	self, parent := "", ""
	if hood != nil {
		self, parent = hood.ID, parentOf(hood)
	}
	out := []sdkweb.Option{{Value: "", Label: loc.T("core.places.hood.no_parent")}}
	for _, n := range all {
		switch {
		case n.ID == self:
		case n.ArchivedAt == nil:
			out = append(out, sdkweb.Option{Value: n.ID, Label: n.Name})
		case n.ID == parent:
			out = append(out, sdkweb.Option{Value: n.ID, Label: loc.T("core.places.hood.archived_choice", map[string]any{"Name": n.Name})})
		}
	}
	return out
}

// parentOf is the id of hood's parent, "" for none.
func parentOf(hood *core.Neighbourhood) string {
	if hood.ParentID == nil {
		return ""
	}
	return *hood.ParentID
}

func (p *Pages) hoods(w http.ResponseWriter, r *http.Request) error {
	if err := p.allowed(r, core.PermNeighbourhoodManage, core.DomainCity); err != nil {
		return err
	}
	return p.renderHoods(w, r, http.StatusOK, sdkweb.NewForm(nil))
}

func (p *Pages) renderHoods(w http.ResponseWriter, r *http.Request, status int, form *sdkweb.Form) error {
	all, err := p.allHoods(r)
	if err != nil {
		return err
	}
	meta := p.adminMeta(r, "core.places.hoods.title", nil)
	if !form.Valid() {
		meta.Focus = sdkweb.ErrorSummaryID
	}
	return p.render(w, r, status, "places-hoods", hoodsView{Tree: hoodTree(all), Form: form, Parents: p.parentChoices(r, all, nil)}, meta)
}

// catchHood records the neighbourhood service's refusal on form; another error is
// the caller's to answer.
func catchHood(form *sdkweb.Form, err error) error {
	switch core.ErrorCode(err) {
	case "":
	case core.EINVALID:
		form.Catch(sdkError(err), "core.places.hood")
	case core.ECONFLICT:
		form.Invalid("slug", "core.places.hood.slug.taken", nil)
	default:
		return err
	}
	return nil
}

// createHood adds a neighbourhood, as POST /api/v1/neighbourhoods does.
func (p *Pages) createHood(w http.ResponseWriter, r *http.Request) error {
	if err := p.allowed(r, core.PermNeighbourhoodManage, core.DomainCity); err != nil {
		return err
	}
	var in hoodInput
	form, err := sdkweb.Decode(r, &in)
	if err != nil {
		return err
	}
	if form.Valid() {
		hood := core.NeighbourhoodInput{Name: in.Name, Slug: in.Slug}
		if in.ParentID != "" {
			hood.ParentID = &in.ParentID
		}
		if strings.TrimSpace(in.Boundary) != "" {
			hood.Boundary = json.RawMessage(in.Boundary)
		}
		_, err := p.svc.Neighbourhoods.CreateNeighbourhood(r.Context(), hood)
		if err := catchHood(form, err); err != nil {
			return err
		}
	}
	if !form.Valid() {
		return p.renderHoods(w, r, http.StatusUnprocessableEntity, form)
	}
	p.flash(w, r, "core.places.flash.hood_created")
	sdkweb.Redirect(w, r, "/admin/neighbourhoods")
	return nil
}

func (p *Pages) hoodForm(w http.ResponseWriter, r *http.Request) error {
	if err := p.allowed(r, core.PermNeighbourhoodManage, core.DomainCity); err != nil {
		return err
	}
	hood, err := p.svc.Neighbourhoods.FindNeighbourhood(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	form := sdkweb.NewForm(nil)
	form.Set("name", hood.Name)
	form.Set("slug", hood.Slug)
	form.Set("parent_id", parentOf(hood))
	if len(hood.Boundary) > 0 {
		form.Set("boundary", string(hood.Boundary))
	}
	return p.renderHood(w, r, http.StatusOK, hood, form)
}

func (p *Pages) renderHood(w http.ResponseWriter, r *http.Request, status int, hood *core.Neighbourhood, form *sdkweb.Form) error {
	all, err := p.allHoods(r)
	if err != nil {
		return err
	}
	loc := p.tmpl.Localizer(viewerOf(r).lang)
	meta := p.adminMeta(r, "core.places.hood.title", map[string]any{"Name": hood.Name},
		sdk.Crumb{Label: loc.T("core.places.hoods.title"), Href: "/admin/neighbourhoods"})
	if !form.Valid() {
		meta.Focus = sdkweb.ErrorSummaryID
	}
	return p.render(w, r, status, "places-hood", hoodView{Hood: hood, Form: form, Parents: p.parentChoices(r, all, hood)}, meta)
}

// saveHood changes a neighbourhood's name, slug, parent and boundary, as PATCH
// /api/v1/neighbourhoods/{id} does; an empty boundary removes it.
func (p *Pages) saveHood(w http.ResponseWriter, r *http.Request) error {
	if err := p.allowed(r, core.PermNeighbourhoodManage, core.DomainCity); err != nil {
		return err
	}
	hood, err := p.svc.Neighbourhoods.FindNeighbourhood(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	var in hoodInput
	form, err := sdkweb.Decode(r, &in)
	if err != nil {
		return err
	}
	if form.Valid() {
		boundary := json.RawMessage("null")
		if strings.TrimSpace(in.Boundary) != "" {
			boundary = json.RawMessage(in.Boundary)
		}
		upd := core.NeighbourhoodUpdate{Name: &in.Name, Slug: &in.Slug, Boundary: &boundary}
		if in.ParentID != parentOf(hood) {
			// Sent only when changed: a parent archived since is kept as it is, while
			// the service refuses to name an archived one anew.
			upd.ParentID = &in.ParentID
		}
		_, err := p.svc.Neighbourhoods.UpdateNeighbourhood(r.Context(), hood.ID, upd)
		if err := catchHood(form, err); err != nil {
			return err
		}
	}
	if !form.Valid() {
		return p.renderHood(w, r, http.StatusUnprocessableEntity, hood, form)
	}
	p.flash(w, r, "core.places.flash.hood_saved")
	sdkweb.Redirect(w, r, "/admin/neighbourhoods")
	return nil
}

// archiveHood archives a neighbourhood (archived=true) or brings it back.
func (p *Pages) archiveHood(w http.ResponseWriter, r *http.Request) error {
	if err := p.allowed(r, core.PermNeighbourhoodManage, core.DomainCity); err != nil {
		return err
	}
	var in struct {
		Archived bool `json:"archived"`
	}
	if _, err := sdkweb.Decode(r, &in); err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := p.svc.Neighbourhoods.UpdateNeighbourhood(r.Context(), id, core.NeighbourhoodUpdate{Archived: &in.Archived}); err != nil {
		return err
	}
	if in.Archived {
		p.flash(w, r, "core.places.flash.hood_archived")
	} else {
		p.flash(w, r, "core.places.flash.hood_unarchived")
	}
	sdkweb.Redirect(w, r, "/admin/neighbourhoods/"+id)
	return nil
}

// Organisations.

// orgStates are the tabs of the organisations page, the first the default.
var orgStates = []string{core.OrganisationPending, core.OrganisationVerified, core.OrganisationRejected}

// orgTab is one state's tab.
type orgTab struct {
	State, Label string
	Current      bool
}

// orgsView is one state's organisations.
type orgsView struct {
	Tabs  []orgTab
	State string
	Orgs  sdkweb.Table
	Pages sdkweb.Pagination
}

// orgTone is the colour of an organisation's state tag.
func orgTone(state string) string {
	switch state {
	case core.OrganisationVerified:
		return "success"
	case core.OrganisationRejected:
		return "danger"
	}
	return "warning"
}

func (p *Pages) orgs(w http.ResponseWriter, r *http.Request) error {
	if err := p.allowed(r, core.PermOrganisationVerify, core.DomainCity); err != nil {
		return err
	}
	state := r.URL.Query().Get("state")
	if !slices.Contains(orgStates, state) {
		state = orgStates[0]
	}
	list, next, err := p.svc.Organisations.ListOrganisations(r.Context(), state, core.Page{Cursor: r.URL.Query().Get("cursor")})
	if err != nil {
		return err
	}
	loc := p.tmpl.Localizer(viewerOf(r).lang)
	data := orgsView{State: state, Pages: sdkweb.Pagination{Next: sdkweb.CursorURL(r.URL, next)}, Orgs: sdkweb.Table{
		Caption: loc.T("core.places.orgs.caption." + state),
		Columns: []sdkweb.Column{{Label: loc.T("core.places.org.name")}, {Label: loc.T("core.places.org.kind")},
			{Label: loc.T("core.places.org.state")}, {Label: loc.T("core.places.org.registered")}},
		RowHeaders: true,
	}}
	for _, s := range orgStates {
		data.Tabs = append(data.Tabs, orgTab{State: s, Label: loc.T("core.places.org.state." + s), Current: s == state})
	}
	for _, o := range list {
		data.Orgs.Rows = append(data.Orgs.Rows, []sdkweb.Cell{
			{Text: o.Name, Href: "/admin/organisations/" + o.ID},
			{Text: loc.T("core.places.org.kind." + o.Kind)},
			{Tag: &sdkweb.Tag{Text: loc.T("core.places.org.state." + o.State), Tone: orgTone(o.State)}},
			{Text: loc.Date(o.CreatedAt)},
		})
	}
	return p.render(w, r, http.StatusOK, "places-orgs", data, p.adminMeta(r, "core.places.orgs.title", nil))
}

// memberView is one person in an organisation, with the role to change to.
type memberView struct {
	core.OrganisationMember
	Other string // the other role, which the button gives
}

// orgView is an organisation's details, the decision forms of a pending one, and its
// members.
type orgView struct {
	Org     *core.Organisation
	Tone    string
	Hoods   string       // the names of the neighbourhoods it works in
	Form    *sdkweb.Form // the reason to reject
	Add     *sdkweb.Form // a person to add, by email address, and their role
	Roles   []sdkweb.Option
	Members []memberView
	Pages   sdkweb.Pagination
	Refusal string
}

func (p *Pages) org(w http.ResponseWriter, r *http.Request) error {
	return p.renderOrg(w, r, http.StatusOK, orgForms{}, "")
}

// orgForms are the organisation page's two forms as the last request left them; nil
// is an empty form.
type orgForms struct{ Reject, Add *sdkweb.Form }

// renderOrg shows the path's organisation; refusal, a message id, says why the last
// action could not be done.
func (p *Pages) renderOrg(w http.ResponseWriter, r *http.Request, status int, forms orgForms, refusal string) error {
	if err := p.allowed(r, core.PermOrganisationVerify, core.DomainCity); err != nil {
		return err
	}
	ctx := r.Context()
	o, err := p.svc.Organisations.FindOrganisation(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	members, next, err := p.svc.Organisations.ListOrganisationMembers(ctx, o.ID, core.Page{Cursor: r.URL.Query().Get("cursor")})
	if err != nil {
		return err
	}
	loc := p.tmpl.Localizer(viewerOf(r).lang)
	for _, f := range []**sdkweb.Form{&forms.Reject, &forms.Add} {
		if *f == nil {
			*f = sdkweb.NewForm(nil)
		}
	}
	data := orgView{Org: o, Tone: orgTone(o.State), Form: forms.Reject, Add: forms.Add, Pages: sdkweb.Pagination{Next: sdkweb.CursorURL(r.URL, next)}}
	for _, role := range []string{core.OrgRoleMember, core.OrgRoleRepresentative} {
		data.Roles = append(data.Roles, sdkweb.Option{Value: role, Label: loc.T("core.places.org.role." + role)})
	}
	var names []string
	for _, id := range o.NeighbourhoodIDs {
		n, err := p.svc.Neighbourhoods.FindNeighbourhood(ctx, id)
		if err != nil {
			return err
		}
		names = append(names, n.Name)
	}
	data.Hoods = strings.Join(names, ", ")
	for _, m := range members {
		other := core.OrgRoleRepresentative
		if m.Role == core.OrgRoleRepresentative {
			other = core.OrgRoleMember
		}
		data.Members = append(data.Members, memberView{OrganisationMember: m, Other: other})
	}
	if page := "/admin/organisations/" + o.ID; r.URL.Path != page {
		// A refused action (POST .../reject, .../verify, a member's) shows the
		// organisation's page: its breadcrumbs and the language switcher's way back
		// lead there, not to the action's path, which answers no GET.
		r = r.Clone(ctx)
		r.URL.Path, r.URL.RawQuery = page, ""
	}
	meta := p.adminMeta(r, "core.places.org.title", map[string]any{"Name": o.Name},
		sdk.Crumb{Label: loc.T("core.places.orgs.title"), Href: "/admin/organisations?state=" + o.State})
	if !forms.Reject.Valid() || !forms.Add.Valid() {
		meta.Focus = sdkweb.ErrorSummaryID
	}
	if refusal != "" {
		data.Refusal = loc.T(refusal)
		meta.Announce = data.Refusal
	}
	return p.render(w, r, status, "places-org", data, meta)
}

// decideOrg verifies or rejects (with the reason its members will see) a pending
// organisation, as POST /api/v1/organisations/{id}/verify and /reject do.
func (p *Pages) decideOrg(decision, flash string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := p.allowed(r, core.PermOrganisationVerify, core.DomainCity); err != nil {
			return err
		}
		var in reasonInput
		form, err := sdkweb.Decode(r, &in)
		if err != nil {
			return err
		}
		id := r.PathValue("id")
		if form.Valid() {
			conflict, err := decideWithReason(form, in.Reason, decision == "reject", "core.places.org", func() error {
				_, err := p.svc.Organisations.DecideOrganisation(r.Context(), id, decision, in.Reason)
				return err
			})
			if err != nil {
				return err
			}
			if conflict {
				return p.renderOrg(w, r, http.StatusConflict, orgForms{}, "core.places.org.decided")
			}
		}
		if !form.Valid() {
			return p.renderOrg(w, r, http.StatusUnprocessableEntity, orgForms{Reject: form}, "")
		}
		p.flash(w, r, flash)
		sdkweb.Redirect(w, r, "/admin/organisations/"+id)
		return nil
	}
}

// reasonInput is the form of a decision that says why, as the API's body of one.
type reasonInput struct {
	Reason string `json:"reason" max:"500"`
}

// decideWithReason makes a decision that, when required, must say why: an empty
// reason is the form's problem "<prefix>.reason.reason_required" and decides nothing;
// the service's refusal of a rule goes on the form. conflict reports the service's
// 409: the question was answered already. Any other error is the caller's.
func decideWithReason(form *sdkweb.Form, reason string, required bool, prefix string, decide func() error) (conflict bool, err error) {
	if required && strings.TrimSpace(reason) == "" {
		form.Invalid("reason", prefix+".reason.reason_required", nil)
		return false, nil
	}
	err = decide()
	switch core.ErrorCode(err) {
	case "":
	case core.EINVALID:
		form.Catch(sdkError(err), prefix)
	case core.ECONFLICT:
		return true, nil
	default:
		return false, err
	}
	return false, nil
}

// memberRole makes a member a representative or a representative a member, as POST
// /api/v1/organisations/{id}/members does for a person already in it.
// addMember adds a person, found by their exact email address (an admin may search
// people, core.users.read), to the organisation in the role picked, as POST
// /api/v1/organisations/{id}/members does with the person's id.
func (p *Pages) addMember(w http.ResponseWriter, r *http.Request) error {
	if err := p.allowed(r, core.PermOrganisationVerify, core.DomainCity); err != nil {
		return err
	}
	var in struct {
		Email string `json:"email" max:"254"`
		Role  string `json:"role" max:"32"`
	}
	form, err := sdkweb.Decode(r, &in)
	if err != nil {
		return err
	}
	if in.Role != core.OrgRoleMember && in.Role != core.OrgRoleRepresentative {
		form.Invalid("role", "web.rule.one_of", nil)
	}
	id := r.PathValue("id")
	email := strings.TrimSpace(in.Email)
	if form.Valid() && email == "" {
		form.Invalid("email", "core.places.org.add.email.required", nil)
	}
	if form.Valid() {
		person, err := p.personByEmail(r, email)
		if err != nil {
			return err
		}
		members, err := p.orgMembers(r, id)
		if err != nil {
			return err
		}
		switch {
		case person == nil:
			form.Invalid("email", "core.places.org.add.email.unknown", nil)
		case slices.ContainsFunc(members, func(m core.OrganisationMember) bool { return m.UserID == person.ID }):
			form.Invalid("email", "core.places.org.add.email.member", map[string]any{"Name": person.DisplayName})
		default:
			if _, err := p.svc.Organisations.AddOrganisationMember(r.Context(), id, person.ID, in.Role); err != nil {
				return err
			}
		}
	}
	if !form.Valid() {
		return p.renderOrg(w, r, http.StatusUnprocessableEntity, orgForms{Add: form}, "")
	}
	p.flash(w, r, "core.places.flash.member_added")
	sdkweb.Redirect(w, r, "/admin/organisations/"+id)
	return nil
}

// personByEmail is the person whose email address is email, in any case, found
// through the same search as the people page; nil when nobody's is. Other people's
// addresses may hold it too ("ali@x" is in "vali@x"), so every page of matches counts.
func (p *Pages) personByEmail(r *http.Request, email string) (*core.User, error) {
	found, err := allPages(func(page core.Page) ([]core.User, string, error) {
		return p.svc.Identity.SearchUsers(r.Context(), email, page)
	})
	if err != nil {
		return nil, err
	}
	if i := slices.IndexFunc(found, func(u core.User) bool { return strings.EqualFold(u.Email, email) }); i >= 0 {
		return &found[i], nil
	}
	return nil, nil
}

func (p *Pages) memberRole(w http.ResponseWriter, r *http.Request) error {
	if err := p.allowed(r, core.PermOrganisationVerify, core.DomainCity); err != nil {
		return err
	}
	var in struct {
		Role string `json:"role" max:"32"`
	}
	if _, err := sdkweb.Decode(r, &in); err != nil {
		return err
	}
	if in.Role != core.OrgRoleMember && in.Role != core.OrgRoleRepresentative {
		// The page's buttons send one of the two; anything else is no form of ours.
		return core.Malformed("The role is not one an organisation has.")
	}
	id, user := r.PathValue("id"), r.PathValue("user")
	all, err := p.orgMembers(r, id)
	if err != nil {
		return err
	}
	// Only a person already in the organisation changes role here: the form must
	// not add anyone. Demoting the last representative would leave nobody to answer
	// for the organisation; the service guards removal the same way.
	reps, role := 0, ""
	for _, m := range all {
		if m.UserID == user {
			role = m.Role
		}
		if m.Role == core.OrgRoleRepresentative {
			reps++
		}
	}
	if role == "" {
		return core.Errorf(core.ENOTFOUND, "The person is not a member of this organisation.")
	}
	if role == core.OrgRoleRepresentative && in.Role != core.OrgRoleRepresentative && reps == 1 {
		return p.renderOrg(w, r, http.StatusConflict, orgForms{}, "core.places.org.last_representative")
	}
	if _, err := p.svc.Organisations.AddOrganisationMember(r.Context(), id, user, in.Role); err != nil {
		return err
	}
	p.flash(w, r, "core.places.flash.member_role")
	sdkweb.Redirect(w, r, "/admin/organisations/"+id)
	return nil
}

// orgMembers is every member of the organisation id.
func (p *Pages) orgMembers(r *http.Request, id string) ([]core.OrganisationMember, error) {
	return allPages(func(page core.Page) ([]core.OrganisationMember, string, error) {
		return p.svc.Organisations.ListOrganisationMembers(r.Context(), id, page)
	})
}

// removeMember removes a person from an organisation, as DELETE
// /api/v1/organisations/{id}/members/{userID} does.
func (p *Pages) removeMember(w http.ResponseWriter, r *http.Request) error {
	if err := p.allowed(r, core.PermOrganisationVerify, core.DomainCity); err != nil {
		return err
	}
	id := r.PathValue("id")
	err := p.svc.Organisations.RemoveOrganisationMember(r.Context(), id, r.PathValue("user"))
	if core.ErrorCode(err) == core.ECONFLICT {
		return p.renderOrg(w, r, http.StatusConflict, orgForms{}, "core.places.org.last_representative")
	}
	if err != nil {
		return err
	}
	p.flash(w, r, "core.places.flash.member_removed")
	sdkweb.Redirect(w, r, "/admin/organisations/"+id)
	return nil
}

// hoodOrgsView is the organisations working in one neighbourhood.
type hoodOrgsView struct {
	Hood *core.Neighbourhood
	Orgs []core.Organisation
}

// hoodOrgs lists the verified organisations that work in the path's neighbourhood,
// for its coordinators (who decide its memberships) and city admins.
func (p *Pages) hoodOrgs(w http.ResponseWriter, r *http.Request) error {
	if err := p.allowed(r, core.PermMembershipDecide, core.NeighbourhoodDomain(r.PathValue("id"))); err != nil {
		return err
	}
	ctx := r.Context()
	hood, err := p.svc.Neighbourhoods.FindNeighbourhood(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	// The service lists organisations by state only: the neighbourhood's are picked
	// from the verified ones.
	all, err := allPages(func(page core.Page) ([]core.Organisation, string, error) {
		return p.svc.Organisations.ListOrganisations(ctx, core.OrganisationVerified, page)
	})
	if err != nil {
		return err
	}
	data := hoodOrgsView{Hood: hood}
	for _, o := range all {
		if slices.Contains(o.NeighbourhoodIDs, hood.ID) {
			data.Orgs = append(data.Orgs, o)
		}
	}
	slices.SortFunc(data.Orgs, func(a, b core.Organisation) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return p.render(w, r, http.StatusOK, "places-hood-orgs", data, p.hoodMeta(r, hood, "core.places.hood_orgs.title"))
}

// Plugins.

// pluginView is one configured plugin and the actions it takes now.
type pluginView struct {
	core.PluginStatus
	Tone    string
	Actions []string // enable, disable, restart
}

// pluginsView is every configured plugin; None is set on a node that runs none.
type pluginsView struct {
	Plugins []pluginView
	None    bool
}

// pluginActions are the buttons a plugin in state shows: a stopped or failed plugin
// can be enabled, any other disabled or restarted.
func pluginActions(state string) (tone string, actions []string) {
	switch state {
	case core.PluginStopped:
		return "", []string{"enable"}
	case core.PluginFailed:
		return "danger", []string{"enable"}
	case core.PluginActive:
		return "success", []string{"disable", "restart"}
	case core.PluginDegraded:
		return "warning", []string{"disable", "restart"}
	}
	return "info", []string{"disable", "restart"} // starting, migrating, stopping
}

func (p *Pages) plugins(w http.ResponseWriter, r *http.Request) error {
	if err := p.allowed(r, core.PermPluginsManage, core.DomainCity); err != nil {
		return err
	}
	var data pluginsView
	if p.svc.Plugins != nil {
		list, err := p.svc.Plugins.ListPlugins(r.Context())
		if err != nil {
			return err
		}
		for _, st := range list {
			tone, actions := pluginActions(st.State)
			data.Plugins = append(data.Plugins, pluginView{PluginStatus: st, Tone: tone, Actions: actions})
		}
	}
	data.None = len(data.Plugins) == 0
	return p.render(w, r, http.StatusOK, "places-plugins", data, p.adminMeta(r, "core.places.plugins.title", nil))
}

// pluginAction enables, disables or restarts a plugin, as POST
// /api/v1/admin/plugins/{name}/{action} does; the host authorises and audits it.
func (p *Pages) pluginAction(w http.ResponseWriter, r *http.Request) error {
	if err := p.allowed(r, core.PermPluginsManage, core.DomainCity); err != nil {
		return err
	}
	if p.svc.Plugins == nil {
		return core.Errorf(core.ENOTFOUND, "This node runs no plugins.")
	}
	name, action := r.PathValue("name"), r.PathValue("action")
	var err error
	switch action {
	case "enable":
		_, err = p.svc.Plugins.EnablePlugin(r.Context(), name)
	case "disable":
		_, err = p.svc.Plugins.DisablePlugin(r.Context(), name)
	case "restart":
		_, err = p.svc.Plugins.RestartPlugin(r.Context(), name)
	default:
		return core.Errorf(core.ENOTFOUND, "There is no action %q.", action)
	}
	if err != nil {
		return err
	}
	p.flash(w, r, "core.places.flash.plugin_"+action)
	sdkweb.Redirect(w, r, "/admin/plugins")
	return nil
}
