package web

import (
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
	sdkweb "github.com/kvarter/kvarter/sdk/web"
)

// The city admins' pages: the admin index, people (search, details, granting and
// revoking roles), the grants of a domain with every role described, and the audit
// log. Each calls the service the API calls — IdentityService.SearchUsers and
// FindUser (core.users.read), RoleService (core.roles.grant in the domain, no
// escalation), AuditService (core.audit.read) — and shows its 403 as the panel. The
// authorizer only decides which links the index and the navigation show.

func init() {
	flashes = append(flashes, "core.flash.granted", "core.flash.revoked")
}

// adminPath is the admin index; every admin section lives under it.
const adminPath = "/admin"

// adminSections are the admin index's links, each shown to holders of its permission
// in the city. Neighbourhoods, organisations and plugins are pages_admin_places.go's.
var adminSections = []struct{ path, key, perm string }{
	{"/admin/users", "core.admin.index.users", core.PermUsersRead},
	{"/admin/grants", "core.admin.index.grants", core.PermRolesGrant},
	{"/admin/audit", "core.admin.index.audit", core.PermAuditRead},
	{"/admin/neighbourhoods", "core.admin.index.neighbourhoods", core.PermNeighbourhoodManage},
	{"/admin/organisations", "core.admin.index.organisations", core.PermOrganisationVerify},
	{"/admin/plugins", "core.admin.index.plugins", core.PermPluginsManage},
	{"/admin/mail", "core.admin.index.mail", core.PermMailManage},
}

// adminRoutes adds the city admins' pages to mux.
func (p *Pages) adminRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin", p.handle(p.adminIndex))
	mux.Handle("GET /admin/users", p.handle(p.adminUsers))
	mux.Handle("GET /admin/users/{id}", p.handle(p.adminUser))
	mux.Handle("POST /admin/users/{id}/grant", p.handle(p.grant))
	mux.Handle("POST /admin/users/{id}/revoke", p.handle(p.revoke))
	mux.Handle("GET /admin/grants", p.handle(p.adminGrants))
	mux.Handle("GET /admin/audit", p.handle(p.adminAudit))
	mux.Handle("GET /admin/mail", p.handle(p.adminMail))        // pages_admin_mail.go
	mux.Handle("POST /admin/mail/retry", p.handle(p.retryMail)) // pages_admin_mail.go
}

// can reports whether the viewer holds perm in domain: for links only.
func (p *Pages) can(v *viewer, perm, domain string) bool {
	return p.svc.Authz != nil && v.principal.Authenticated() && p.svc.Authz.Can(v.principal, perm, domain)
}

// isAdmin reports whether the viewer may open some admin section.
func (p *Pages) isAdmin(v *viewer) bool {
	return slices.ContainsFunc(adminSections, func(s struct{ path, key, perm string }) bool {
		return p.can(v, s.perm, core.DomainCity)
	})
}

// adminMeta titles an admin page with data filled in, under the admin index and then
// the pages in up in the breadcrumbs.
func (p *Pages) adminMeta(r *http.Request, title string, data map[string]any, up ...sdk.Crumb) sdk.PageMeta {
	loc := p.tmpl.Localizer(viewerOf(r).lang)
	crumbs := append([]sdk.Crumb{{Label: loc.T("core.admin.title"), Href: adminPath}}, up...)
	return sdk.PageMeta{Title: loc.T(title, data), Breadcrumbs: crumbs}
}

// adminIndexView is the admin index: the sections the viewer may open.
type adminIndexView struct{ Sections []sdkweb.Card }

func (p *Pages) adminIndex(w http.ResponseWriter, r *http.Request) error {
	v, err := signedIn(r)
	if err != nil {
		return err
	}
	loc := p.tmpl.Localizer(v.lang)
	var data adminIndexView
	for _, s := range adminSections {
		if p.can(v, s.perm, core.DomainCity) {
			data.Sections = append(data.Sections, sdkweb.Card{Heading: loc.T(s.key), Href: s.path, Text: loc.T(s.key + "_about"), Level: 2})
		}
	}
	if len(data.Sections) == 0 {
		return core.Errorf(core.EFORBIDDEN, "Only the city's administrators may open the administration.")
	}
	return p.render(w, r, http.StatusOK, "admin", data, sdk.PageMeta{Title: loc.T("core.admin.title")})
}

// usersView is the search for people and a page of what it found.
type usersView struct {
	Form     *sdkweb.Form
	Searched bool
	People   sdkweb.Table
	Pages    sdkweb.Pagination
}

// adminUsers searches people as GET /api/v1/users does; the form is a GET form, so a
// search is a link that can be shared and paged.
func (p *Pages) adminUsers(w http.ResponseWriter, r *http.Request) error {
	v, err := signedIn(r)
	if err != nil {
		return err
	}
	loc := p.tmpl.Localizer(v.lang)
	query := r.URL.Query()
	form := sdkweb.NewForm(query)
	q := query.Get("q")
	list, next, err := p.svc.Identity.SearchUsers(r.Context(), q, core.Page{Cursor: query.Get("cursor")})
	status := http.StatusOK
	if !form.Catch(sdkError(err), "core.admin.users") && err != nil {
		return err
	}
	meta := p.adminMeta(r, "core.admin.users.title", nil)
	if !form.Valid() {
		status, meta.Focus = http.StatusUnprocessableEntity, sdkweb.ErrorSummaryID
	}
	caption := loc.T("core.admin.users.everyone")
	if strings.TrimSpace(q) != "" {
		caption = loc.T("core.admin.users.found", map[string]any{"Query": strings.TrimSpace(q)})
	}
	data := usersView{Form: form, Searched: form.Valid(), Pages: sdkweb.Pagination{Next: sdkweb.CursorURL(r.URL, next)},
		People: sdkweb.Table{Caption: caption, RowHeaders: true, Columns: []sdkweb.Column{
			{Label: loc.T("core.admin.user.name")}, {Label: loc.T("core.admin.user.email")},
			{Label: loc.T("core.admin.user.language")}, {Label: loc.T("core.admin.user.created")}}}}
	for _, u := range list {
		data.People.Rows = append(data.People.Rows, []sdkweb.Cell{{Text: u.DisplayName, Href: "/admin/users/" + u.ID},
			{Text: u.Email}, {Text: languageName(u.Language)}, {Text: loc.Date(u.CreatedAt)}})
	}
	return p.render(w, r, status, "admin-users", data, meta)
}

func languageName(code string) string {
	if n := languageNames[code]; n != "" {
		return n
	}
	return code
}

// userView is one person: their details, their grants with a revoke button each, and
// the form that grants another role.
type userView struct {
	User     *core.User
	Language string
	Created  string
	Grants   []grantRow
	Form     *sdkweb.Form
	Roles    []sdkweb.Option
	Domains  []sdkweb.Option
}

// grantRow is one grant in the viewer's words.
type grantRow struct {
	Role, Domain           string
	RoleLabel, DomainLabel string
	Since                  string
}

func (p *Pages) adminUser(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	return p.renderUser(w, r, http.StatusOK, sdkweb.NewForm(nil))
}

func (p *Pages) renderUser(w http.ResponseWriter, r *http.Request, status int, form *sdkweb.Form) error {
	ctx := r.Context()
	loc := p.tmpl.Localizer(viewerOf(r).lang)
	u, err := p.svc.Identity.FindUser(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	grants, err := p.svc.Roles.UserGrants(ctx, u.ID)
	if err != nil {
		return err
	}
	roles, domains, err := p.grantChoices(r)
	if err != nil {
		return err
	}
	labels := optionLabels(domains)
	data := userView{User: u, Language: languageName(u.Language), Created: loc.Date(u.CreatedAt), Form: form, Roles: roles, Domains: domains}
	for _, g := range grants {
		data.Grants = append(data.Grants, grantRow{Role: g.Role, Domain: g.Domain, RoleLabel: p.roleName(r, g.Role),
			DomainLabel: domainLabel(labels, g.Domain), Since: loc.Date(g.CreatedAt)})
	}
	meta := p.adminMeta(r, "core.admin.user.title", map[string]any{"Name": u.DisplayName},
		sdk.Crumb{Label: loc.T("core.admin.users.title"), Href: "/admin/users"})
	if !form.Valid() {
		meta.Focus = sdkweb.ErrorSummaryID
	}
	return p.render(w, r, status, "admin-user", data, meta)
}

// grantChoices are the roles a grant may name and the domains the viewer may grant
// in: the city, then each neighbourhood by name.
func (p *Pages) grantChoices(r *http.Request) (roles, domains []sdkweb.Option, err error) {
	names, err := p.svc.Roles.GrantableRoles(r.Context())
	if err != nil {
		return nil, nil, err
	}
	for _, n := range names {
		roles = append(roles, sdkweb.Option{Value: n, Label: p.roleName(r, n)})
	}
	domains, err = p.domainOptions(r, core.PermRolesGrant)
	return roles, domains, err
}

// domainOptions are the city and the neighbourhoods, by name, where the viewer holds
// perm (every one, for a city admin).
func (p *Pages) domainOptions(r *http.Request, perm string) ([]sdkweb.Option, error) {
	v := viewerOf(r)
	loc := p.tmpl.Localizer(v.lang)
	var out []sdkweb.Option
	if p.can(v, perm, core.DomainCity) {
		out = append(out, sdkweb.Option{Value: core.DomainCity, Label: loc.T("core.admin.domain.city")})
	}
	page := core.Page{Limit: core.MaxPageLimit}
	for {
		hoods, next, err := p.svc.Neighbourhoods.ListNeighbourhoods(r.Context(), false, page)
		if err != nil {
			return nil, err
		}
		for _, h := range hoods {
			if d := core.NeighbourhoodDomain(h.ID); p.can(v, perm, d) {
				out = append(out, sdkweb.Option{Value: d, Label: h.Name})
			}
		}
		if next == "" {
			return out, nil
		}
		page.Cursor = next
	}
}

func optionLabels(opts []sdkweb.Option) map[string]string {
	out := make(map[string]string, len(opts))
	for _, o := range opts {
		out[o.Value] = o.Label
	}
	return out
}

// domainLabel names a domain by its label among the options, else as stored (an
// organisation's domain, or an archived neighbourhood's).
func domainLabel(labels map[string]string, domain string) string {
	if l := labels[domain]; l != "" {
		return l
	}
	return domain
}

// roleName is a role's name in the viewer's words; a plugin's role keeps its own.
func (p *Pages) roleName(r *http.Request, role string) string {
	loc := p.tmpl.Localizer(viewerOf(r).lang)
	if id := "core.admin.role." + role + ".name"; loc.Has(id) {
		return loc.T(id)
	}
	if p.svc.Plugins != nil {
		if text, ok := p.svc.Plugins.RoleText(role, viewerOf(r).lang); ok {
			return text.Label
		}
	}
	return role
}

// grantInput is the grant form, named as the API's body.
type grantInput struct {
	Role   string `json:"role" max:"100"`
	Domain string `json:"domain" max:"100"`
}

// grantForm reads a grant or revocation posted for the path's person. The person
// comes first: someone who is not there is a 404, not a form to put right.
func (p *Pages) grantForm(r *http.Request) (grantInput, *sdkweb.Form, error) {
	var in grantInput
	if _, err := signedIn(r); err != nil {
		return in, nil, err
	}
	if _, err := p.svc.Identity.FindUser(r.Context(), r.PathValue("id")); err != nil {
		return in, nil, err
	}
	form, err := sdkweb.Decode(r, &in)
	return in, form, err
}

// grant grants the person a role in a domain, as POST /api/v1/roles/grants does.
func (p *Pages) grant(w http.ResponseWriter, r *http.Request) error {
	in, form, err := p.grantForm(r)
	if err != nil {
		return err
	}
	if form.Valid() {
		// The form offers only what may be granted; anything else was not chosen from it.
		roles, domains, err := p.grantChoices(r)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(roles, func(o sdkweb.Option) bool { return o.Value == in.Role }) {
			form.Invalid("role", "core.admin.grant.role.one_of", nil)
		}
		if !slices.ContainsFunc(domains, func(o sdkweb.Option) bool { return o.Value == in.Domain }) {
			form.Invalid("domain", "core.admin.grant.domain.one_of", nil)
		}
	}
	if form.Valid() {
		_, err := p.svc.Roles.Grant(r.Context(), core.RoleGrant{UserID: r.PathValue("id"), Role: in.Role, Domain: in.Domain})
		switch core.ErrorCode(err) {
		case "":
		case core.EINVALID:
			form.Catch(sdkError(err), "core.admin.grant")
		case core.ECONFLICT:
			form.Invalid("role", "core.admin.grant.role.held", nil)
		default:
			return err
		}
	}
	if !form.Valid() {
		return p.renderUser(w, r, http.StatusUnprocessableEntity, form)
	}
	p.flash(w, r, "core.flash.granted")
	sdkweb.Redirect(w, r, "/admin/users/"+r.PathValue("id"))
	return nil
}

// revoke takes a grant away, as DELETE /api/v1/roles/grants does; the button names the
// role and the domain, so it needs no page of its own to confirm.
func (p *Pages) revoke(w http.ResponseWriter, r *http.Request) error {
	in, form, err := p.grantForm(r)
	if err != nil {
		return err
	}
	if !form.Valid() {
		return core.Malformed("The revocation names no grant.")
	}
	if err := p.svc.Roles.Revoke(r.Context(), core.RoleGrant{UserID: r.PathValue("id"), Role: in.Role, Domain: in.Domain}); err != nil {
		return err
	}
	p.flash(w, r, "core.flash.revoked")
	sdkweb.Redirect(w, r, "/admin/users/"+r.PathValue("id"))
	return nil
}

// grantsView is the grants of one domain and every role described.
type grantsView struct {
	Form    *sdkweb.Form
	Domains []sdkweb.Option
	Grants  sdkweb.Table
	Pages   sdkweb.Pagination
	Roles   []roleAbout
}

// roleAbout is a role in plain words; Lang is the language of a plugin's words when
// the plugin does not speak the viewer's.
type roleAbout struct {
	Name, Label, About, Lang string
	// ByMembership marks a role that follows from verified membership.
	ByMembership bool
}

// adminGrants lists the grants in a domain, as GET /api/v1/roles/grants does, for
// city admins and for coordinators in their neighbourhoods.
func (p *Pages) adminGrants(w http.ResponseWriter, r *http.Request) error {
	v, err := signedIn(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	loc := p.tmpl.Localizer(v.lang)
	query := r.URL.Query()
	domains, err := p.domainOptions(r, core.PermRolesGrant)
	if err != nil {
		return err
	}
	domain := query.Get("domain")
	if len(domain) > 100 || !utf8.ValidString(domain) || strings.ContainsFunc(domain, unicode.IsControl) {
		return core.Errorf(core.ENOTFOUND, "There is no such domain.") // never typed into the form's select
	}
	if domain == "" {
		domain = core.DomainCity
		if len(domains) > 0 {
			domain = domains[0].Value
		}
	}
	grants, next, err := p.svc.Roles.ListGrants(ctx, domain, core.Page{Cursor: query.Get("cursor")})
	if err != nil {
		if core.ErrorCode(err) == core.EINVALID {
			return core.Errorf(core.ENOTFOUND, "There is no such domain.") // a domain not chosen from the list
		}
		return err
	}
	labels := optionLabels(domains)
	form := sdkweb.NewForm(nil)
	form.Set("domain", domain)
	data := grantsView{Form: form, Domains: domains, Pages: sdkweb.Pagination{Next: sdkweb.CursorURL(r.URL, next)},
		Grants: sdkweb.Table{Caption: loc.T("core.admin.grants.caption", map[string]any{"Domain": domainLabel(labels, domain)}), RowHeaders: true,
			Columns: []sdkweb.Column{{Label: loc.T("core.admin.user.name")}, {Label: loc.T("core.admin.grants.role")}, {Label: loc.T("core.admin.grants.since")}}}}
	readsPeople := p.can(v, core.PermUsersRead, core.DomainCity)
	for _, g := range grants {
		who := sdkweb.Cell{Text: g.DisplayName}
		if readsPeople {
			who.Href = "/admin/users/" + g.UserID // a coordinator sees the name, not the person's page
		}
		data.Grants.Rows = append(data.Grants.Rows, []sdkweb.Cell{who, {Text: p.roleName(r, g.Role)}, {Text: loc.Date(g.CreatedAt)}})
	}
	data.Roles, err = p.rolesAbout(r)
	if err != nil {
		return err
	}
	return p.render(w, r, http.StatusOK, "admin-grants", data, p.adminMeta(r, "core.admin.grants.title", nil))
}

// rolesAbout describes every core role and the plugins' roles, in the words of each
// plugin's manifest; a role no plugin describes any more (its plugin left the city)
// shows its name and that a plugin defines it.
func (p *Pages) rolesAbout(r *http.Request) ([]roleAbout, error) {
	loc := p.tmpl.Localizer(viewerOf(r).lang)
	var out []roleAbout
	for _, role := range core.CoreRoles {
		out = append(out, roleAbout{Name: role, Label: p.roleName(r, role), About: loc.T("core.admin.role." + role + ".about"),
			ByMembership: slices.Contains(core.MembershipRoles, role)})
	}
	names, err := p.svc.Roles.GrantableRoles(r.Context())
	if err != nil {
		return nil, err
	}
	for _, role := range names {
		if slices.Contains(core.CoreRoles, role) {
			continue
		}
		about := roleAbout{Name: role, Label: role, About: loc.T("core.admin.role.plugin")}
		if p.svc.Plugins != nil {
			if text, ok := p.svc.Plugins.RoleText(role, viewerOf(r).lang); ok {
				about.Label, about.About = text.Label, text.About
				if text.Lang != viewerOf(r).lang {
					about.Lang = text.Lang
				}
			}
		}
		out = append(out, about)
	}
	return out, nil
}

// people names the people of a page by id, each looked up once: their name and a
// link to them for those who may read people, else the words for "a person".
func (p *Pages) people(r *http.Request) func(id string) (name, href string) {
	loc := p.tmpl.Localizer(viewerOf(r).lang)
	known := map[string]*core.User{}
	return func(id string) (string, string) {
		u, ok := known[id]
		if !ok {
			u, _ = p.svc.Identity.FindUser(r.Context(), id) // nil: gone, or not the viewer's to read
			known[id] = u
		}
		if u == nil {
			return loc.T("core.admin.someone"), ""
		}
		return u.DisplayName, "/admin/users/" + u.ID
	}
}

// auditView is the audit log's filters and a page of entries.
type auditView struct {
	Form    *sdkweb.Form
	Domains []sdkweb.Option
	Entries sdkweb.Table
	Pages   sdkweb.Pagination
}

// auditInput is the audit log's filter form (a GET form), named as the API's query.
type auditInput struct {
	Actor  string      `json:"actor" max:"254"`
	Action string      `json:"action" max:"100"`
	Domain string      `json:"domain" max:"100"`
	Target string      `json:"target" max:"200"`
	Since  sdkweb.Date `json:"since"`
	Until  sdkweb.Date `json:"until"`
}

// adminAudit reads the audit log as GET /api/v1/admin/audit does, filtered by who
// acted and whom it concerned (email addresses, never ids), what, where and when
// (days in the city's zone, both ends included).
func (p *Pages) adminAudit(w http.ResponseWriter, r *http.Request) error {
	v, err := signedIn(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	loc := p.tmpl.Localizer(v.lang)
	var in auditInput
	form, err := sdkweb.DecodeQuery(r, &in)
	if err != nil {
		return err
	}
	f := core.AuditFilter{Action: strings.TrimSpace(in.Action), Domain: in.Domain}
	if form.Valid() {
		f.Since, f.Until = p.dayStart(in.Since), p.dayStart(in.Until)
		if !f.Until.IsZero() {
			f.Until = f.Until.AddDate(0, 0, 1)
		}
		if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
			form.Invalid("until", "core.admin.audit.until.before_since", nil)
		}
		for _, c := range []struct {
			field, email string
			dst          *string
			prefix       string
		}{{"actor", in.Actor, &f.ActorID, ""}, {"target", in.Target, &f.Target, "user:"}} {
			if strings.TrimSpace(c.email) == "" {
				continue
			}
			person, err := p.personByEmail(r, strings.TrimSpace(c.email))
			switch {
			case err != nil:
				return err
			case person == nil:
				form.Invalid(c.field, "core.admin.audit.email.unknown", nil)
			default:
				*c.dst = c.prefix + person.ID
			}
		}
	}
	domains, err := p.domainOptions(r, core.PermAuditRead)
	if err != nil {
		return err
	}
	labels := optionLabels(domains)
	domains = append([]sdkweb.Option{{Value: "", Label: loc.T("core.admin.audit.anywhere")}}, domains...)
	data := auditView{Form: form, Domains: domains, Entries: sdkweb.Table{Caption: loc.T("core.admin.audit.caption"), Columns: []sdkweb.Column{
		{Label: loc.T("core.admin.audit.at")}, {Label: loc.T("core.admin.audit.actor")}, {Label: loc.T("core.admin.audit.action")},
		{Label: loc.T("core.admin.audit.domain")}, {Label: loc.T("core.admin.audit.target")}}, RowHeaders: true}}
	meta := p.adminMeta(r, "core.admin.audit.title", nil)
	if !form.Valid() {
		// The rows of no filter would mislead: the form again, to be put right.
		if _, _, err := p.svc.Audit.ListAudit(ctx, core.AuditFilter{}, core.Page{Limit: 1}); err != nil {
			return err // not the viewer's log to read, however the form was filled
		}
		meta.Focus = sdkweb.ErrorSummaryID
		return p.render(w, r, http.StatusUnprocessableEntity, "admin-audit", data, meta)
	}
	entries, next, err := p.svc.Audit.ListAudit(ctx, f, core.Page{Cursor: r.URL.Query().Get("cursor")})
	if err != nil {
		return err
	}
	data.Pages.Next = sdkweb.CursorURL(r.URL, next)
	people := p.people(r)
	for _, e := range entries {
		who := sdkweb.Cell{Text: loc.T("core.admin.audit.system")}
		if e.ActorID != nil {
			who.Text, who.Href = people(*e.ActorID)
		}
		target := sdkweb.Cell{Text: e.Target}
		if id, ok := strings.CutPrefix(e.Target, "user:"); ok {
			target.Text, target.Href = people(id)
		} else if id, ok := strings.CutPrefix(e.Target, "neighbourhood:"); ok {
			target.Text = domainLabel(labels, core.NeighbourhoodDomain(id))
		}
		data.Entries.Rows = append(data.Entries.Rows, []sdkweb.Cell{{Text: loc.DateTime(e.At)}, who, {Text: e.Action},
			{Text: domainLabel(labels, e.Domain)}, target})
	}
	return p.render(w, r, http.StatusOK, "admin-audit", data, meta)
}

// dayStart is the start of day d in the city's zone; zero for no day.
func (p *Pages) dayStart(d sdkweb.Date) time.Time {
	if d == "" {
		return time.Time{}
	}
	zone := p.opts.Zone
	if zone == nil {
		zone = time.UTC
	}
	t, err := d.In(zone)
	if err != nil {
		return time.Time{}
	}
	return t
}
