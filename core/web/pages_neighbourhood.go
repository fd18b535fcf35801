package web

import (
	"net/http"
	"slices"

	"github.com/kvarter/kvarter/core"
	sdkweb "github.com/kvarter/kvarter/sdk/web"
)

// mineView is the "my neighbourhood" page: the person's requests and memberships, and
// the form that asks to join.
type mineView struct {
	Memberships []mineItem
	Form        *sdkweb.Form
	Choices     []sdkweb.Option
	// Coordinated are the neighbourhoods the person coordinates, with links to
	// their requests and members.
	Coordinated []core.Neighbourhood
}

// mineItem is one of the person's memberships with its neighbourhood's name.
type mineItem struct {
	core.Membership
	Name string
	Tone string
	Open bool // requested or verified: it can be withdrawn or left
}

func stateTone(state string) string {
	switch state {
	case core.MembershipVerified:
		return "success"
	case core.MembershipRequested:
		return "warning"
	case core.MembershipRejected, core.MembershipRevoked:
		return "danger"
	}
	return "neutral"
}

func (p *Pages) myNeighbourhood(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	// A link from a neighbourhood's page may name it, so the form opens with it chosen.
	form := sdkweb.NewForm(nil)
	if id := r.URL.Query().Get("neighbourhood"); id != "" {
		form.Set("neighbourhood_id", id)
	}
	return p.renderMine(w, r, http.StatusOK, form)
}

func (p *Pages) renderMine(w http.ResponseWriter, r *http.Request, status int, form *sdkweb.Form) error {
	ctx := r.Context()
	mine, err := p.svc.Neighbourhoods.MyMemberships(ctx)
	if err != nil {
		return err
	}
	hoods, _, err := p.svc.Neighbourhoods.ListNeighbourhoods(ctx, false, core.Page{Limit: core.MaxPageLimit})
	if err != nil {
		return err
	}
	loc := p.tmpl.Localizer(viewerOf(r).lang)
	names := map[string]string{}
	data := mineView{Form: form, Choices: []sdkweb.Option{{Value: "", Label: loc.T("core.mine.choose")}}}
	pr := viewerOf(r).principal
	for _, n := range hoods {
		names[n.ID] = n.Name
		data.Choices = append(data.Choices, sdkweb.Option{Value: n.ID, Label: n.Name})
		if slices.Contains(pr.RolesIn(core.NeighbourhoodDomain(n.ID)), core.RoleCoordinator) {
			data.Coordinated = append(data.Coordinated, n)
		}
	}
	seen := map[string]bool{}
	for _, m := range mine {
		// Only the newest of each neighbourhood tells where the person stands there.
		if seen[m.NeighbourhoodID] {
			continue
		}
		seen[m.NeighbourhoodID] = true
		name := names[m.NeighbourhoodID]
		if name == "" {
			n, err := p.svc.Neighbourhoods.FindNeighbourhood(ctx, m.NeighbourhoodID) // archived since
			if err != nil {
				return err
			}
			name = n.Name
		}
		open := m.State == core.MembershipRequested || m.State == core.MembershipVerified
		data.Memberships = append(data.Memberships, mineItem{Membership: m, Name: name, Tone: stateTone(m.State), Open: open})
	}
	return p.render(w, r, status, "mine", data, p.formMeta(r, "core.mine.title", form))
}

// joinInput is the form that asks to join.
type joinInput struct {
	NeighbourhoodID string `json:"neighbourhood_id" max:"64"`
	Note            string `json:"note" max:"500"`
}

// askToJoin asks to join a neighbourhood with a note, as POST
// /api/v1/neighbourhoods/{id}/memberships does.
func (p *Pages) askToJoin(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	var in joinInput
	form, err := sdkweb.Decode(r, &in)
	if err != nil {
		return err
	}
	if in.NeighbourhoodID == "" {
		form.Invalid("neighbourhood_id", "core.mine.neighbourhood_id.required", nil)
	}
	if form.Valid() {
		_, err := p.svc.Neighbourhoods.RequestMembership(r.Context(), in.NeighbourhoodID, in.Note)
		switch core.ErrorCode(err) {
		case "":
		case core.EINVALID:
			form.Catch(sdkError(err), "core.mine")
		case core.ENOTFOUND:
			form.Invalid("neighbourhood_id", "core.mine.neighbourhood_id.unknown", nil)
		case core.ECONFLICT:
			// Already asked or a member; or the neighbourhood was archived.
			if p.openState(r, in.NeighbourhoodID) != "" {
				form.Invalid("neighbourhood_id", "core.mine.neighbourhood_id.already", nil)
			} else {
				form.Invalid("neighbourhood_id", "core.mine.neighbourhood_id.unknown", nil)
			}
		default:
			return err
		}
	}
	if !form.Valid() {
		return p.renderMine(w, r, http.StatusUnprocessableEntity, form)
	}
	p.flash(w, r, "core.flash.join_requested")
	sdkweb.Redirect(w, r, "/my-neighbourhood")
	return nil
}

// openState is the state of the person's open request or membership of the
// neighbourhood id (requested or verified), or "" when there is none.
func (p *Pages) openState(r *http.Request, id string) string {
	mine, err := p.svc.Neighbourhoods.MyMemberships(r.Context())
	if err != nil {
		return ""
	}
	for _, m := range mine {
		if m.NeighbourhoodID == id && (m.State == core.MembershipRequested || m.State == core.MembershipVerified) {
			return m.State
		}
	}
	return ""
}

// leave withdraws the person's request or ends their membership, as DELETE
// /api/v1/neighbourhoods/{id}/memberships/me does: only ever the person's own.
func (p *Pages) leave(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	var in struct {
		NeighbourhoodID string `json:"neighbourhood_id" max:"64"`
	}
	if _, err := sdkweb.Decode(r, &in); err != nil {
		return err
	}
	state := p.openState(r, in.NeighbourhoodID)
	if state == "" {
		return core.Errorf(core.ENOTFOUND, "You have no membership of this neighbourhood.")
	}
	flash := "core.flash.left"
	if state == core.MembershipRequested {
		flash = "core.flash.withdrawn"
	}
	if err := p.svc.Neighbourhoods.LeaveNeighbourhood(r.Context(), in.NeighbourhoodID); err != nil {
		return err
	}
	p.flash(w, r, flash)
	sdkweb.Redirect(w, r, "/my-neighbourhood")
	return nil
}
