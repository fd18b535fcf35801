package volunteers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/kvarter/kvarter/plugins/volunteers/match"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/web"
)

// A signed-in resident's pages: the volunteer profile, "my volunteering" (invitations,
// applications, confirmed shifts, wait-list places, hours, and shifts that fit), the
// buttons that confirm or withdraw a sign-up, and the calendar of confirmed shifts.

func (p *Plugin) volunteerRoutes() []sdk.Route {
	return []sdk.Route{
		sdk.GetPage(pageProfile, sdk.PermAuthenticated, p.profilePage),
		sdk.PostPage(pageProfile, sdk.PermAuthenticated, p.profilePost),
		sdk.PostPage(pageProfile+"/delete", sdk.PermAuthenticated, p.profileDelete),
		sdk.GetPage(pageMine, sdk.PermAuthenticated, p.minePage),
		p.decidePage(ActionConfirm, sdk.PermAuthenticated),
		p.decidePage(ActionWithdraw, sdk.PermAuthenticated),
		sdk.PostPage(pageMine+"/calendar/reset", sdk.PermAuthenticated, p.calendarReset),
	}
}

// Parts of the day the profile form offers for each weekday, in the city's time; the
// match package names the same parts in its reasons.
var dayParts = []struct{ Name, Start, End string }{
	{"morning", "06:00", "12:00"}, {"afternoon", "12:00", "17:00"}, {"evening", "17:00", "22:00"},
}

var weekdayNames = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

// profileForm is the profile form: the profile's fields as a person fills them in,
// availability as parts of each weekday and the dates away one a line.
type profileForm struct {
	Skills         []string `json:"skills" max:"64"`
	Languages      []string `json:"languages" max:"16"`
	Monday         []string `json:"avail_monday" max:"16"`
	Tuesday        []string `json:"avail_tuesday" max:"16"`
	Wednesday      []string `json:"avail_wednesday" max:"16"`
	Thursday       []string `json:"avail_thursday" max:"16"`
	Friday         []string `json:"avail_friday" max:"16"`
	Saturday       []string `json:"avail_saturday" max:"16"`
	Sunday         []string `json:"avail_sunday" max:"16"`
	Away           string   `json:"away" max:"400"`
	Hours          *int     `json:"max_hours_per_week" min:"0" max:"168"`
	Neighbourhoods []string `json:"neighbourhoods" max:"64"`
	BirthDate      web.Date `json:"birth_date"`
	Tags           string   `json:"tags" max:"1000"`
}

func (f profileForm) days() [][]string {
	return [][]string{f.Monday, f.Tuesday, f.Wednesday, f.Thursday, f.Friday, f.Saturday, f.Sunday}
}

// profileData is the profile page.
type profileData struct {
	Form           *web.Form
	New            bool
	Saved          bool
	Skills         []web.Option
	Languages      []web.Option
	Days           []dayChoice
	Neighbourhoods []web.Option
	Check          BackgroundCheck
}

// dayChoice is one weekday's parts in the availability fieldset.
type dayChoice struct {
	Name    string
	Options []web.Option
}

// profileValues are the form's values showing prof.
func profileValues(prof Profile) url.Values {
	v := url.Values{}
	v["skills"] = prof.Skills
	v["languages"] = prof.Languages
	v["neighbourhoods"] = prof.Neighbourhoods
	for _, w := range prof.Availability {
		for _, part := range dayParts {
			if w.Start == part.Start && w.End == part.End {
				v.Add("avail_"+strings.ToLower(w.Day), part.Name)
			}
		}
	}
	v.Set("away", strings.Join(prof.UnavailableDates, "\n"))
	if prof.MaxHoursPerWeek > 0 {
		v.Set("max_hours_per_week", strconv.Itoa(prof.MaxHoursPerWeek))
	}
	v.Set("birth_date", prof.BirthDate)
	v.Set("tags", strings.Join(prof.Tags, ", "))
	return v
}

// profileChoices fills the form's options: the catalogue's skills, languages, the
// parts of each day, and the neighbourhoods the person belongs to, has chosen, or has
// opportunities in.
func (p *Plugin) profileChoices(ctx context.Context, v view, pr sdk.Principal, d *profileData, chosen []string) error {
	names, ids, err := p.skillNames(ctx, v.lng)
	if err != nil {
		return err
	}
	for _, id := range ids {
		d.Skills = append(d.Skills, web.Option{Value: id, Label: names[id]})
	}
	langs := slices.Clone(spokenLanguages)
	for _, l := range d.Form.Values("languages") {
		if !slices.Contains(langs, l) && l != "" {
			langs = append(langs, l)
		}
	}
	for _, l := range langs {
		d.Languages = append(d.Languages, web.Option{Value: l, Label: languageName(v.lng, l)})
	}
	for _, day := range weekdayNames {
		dc := dayChoice{Name: day}
		for _, part := range dayParts {
			dc.Options = append(dc.Options, web.Option{Value: part.Name,
				Label: v.T("volunteers.profile.part."+part.Name, "From", part.Start, "To", part.End)})
		}
		d.Days = append(d.Days, dc)
	}
	nbhIDs := append(slices.Clone(pr.Neighbourhoods), chosen...)
	open, err := p.svc.st.openOpportunities(ctx, p.svc.clock())
	if err != nil {
		return err
	}
	for _, o := range open {
		if o.NeighbourhoodID != "" {
			nbhIDs = append(nbhIDs, o.NeighbourhoodID)
		}
	}
	nbhs, err := p.neighbourhoodNames(ctx, nbhIDs)
	if err != nil {
		return err
	}
	for _, id := range sortedByName(nbhs) {
		d.Neighbourhoods = append(d.Neighbourhoods, web.Option{Value: id, Label: nbhs[id]})
	}
	return nil
}

func (v view) profileMeta() sdk.PageMeta {
	return sdk.PageMeta{Title: v.T("volunteers.profile.title"), NavActive: navMine,
		Breadcrumbs: v.crumbs(sdk.Crumb{Label: v.T("volunteers.nav.mine"), Href: pageMine})}
}

// profilePage shows the volunteer profile form, filled with the profile when there is
// one.
func (p *Plugin) profilePage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v, pr := r.Context(), p.view(r), principal(r)
	d := profileData{Form: web.NewForm(nil), Saved: r.URL.Query().Get("saved") == "1"}
	prof, err := p.svc.Profile(ctx, pr)
	switch {
	case err == nil:
		d.Form = web.NewForm(profileValues(prof))
		d.Check = prof.BackgroundCheck
	case errorCode(err) == sdk.CodeNotFound:
		d.New = true
	default:
		return sdk.PageMeta{}, err
	}
	if err := p.profileChoices(ctx, v, pr, &d, prof.Neighbourhoods); err != nil {
		return sdk.PageMeta{}, err
	}
	meta := v.profileMeta()
	if d.Saved {
		meta.Announce = v.T("volunteers.profile.saved")
	}
	return v.render(w, r, "profile", d, meta)
}

// profilePost saves the profile: 303 to "my volunteering" on success, 422 with the
// form, values kept, on a broken rule. Weekly windows set through the API that are no
// part of a day the form offers are kept as they were.
func (p *Plugin) profilePost(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	ctx, v, pr := r.Context(), p.view(r), principal(r)
	var in profileForm
	form, err := web.Decode(r, &in)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	old, err := p.svc.Profile(ctx, pr)
	if err != nil && errorCode(err) != sdk.CodeNotFound {
		return sdk.PageMeta{}, err
	}
	pin := ProfileInput{Skills: in.Skills, Languages: in.Languages, Neighbourhoods: in.Neighbourhoods,
		BirthDate: string(in.BirthDate), UnavailableDates: []string{}}
	if in.Hours != nil {
		pin.MaxHoursPerWeek = *in.Hours
	}
	for _, t := range strings.Split(in.Tags, ",") {
		if t = strings.TrimSpace(t); t != "" {
			pin.Tags = append(pin.Tags, t)
		}
	}
	for _, w := range old.Availability {
		custom := true
		for _, part := range dayParts {
			if w.Start == part.Start && w.End == part.End {
				custom = false
			}
		}
		if custom {
			pin.Availability = append(pin.Availability, w)
		}
	}
	for i, parts := range in.days() {
		for _, part := range dayParts {
			if slices.Contains(parts, part.Name) {
				pin.Availability = append(pin.Availability, AvailabilityWindow{Day: weekdayNames[i], Start: part.Start, End: part.End})
			}
		}
	}
	if form.Valid() {
		if in.BirthDate == "" {
			form.Invalid("birth_date", "volunteers.form.birth_date.required", nil)
		}
		lines := strings.FieldsFunc(in.Away, func(r rune) bool { return r == '\n' || r == ',' || r == ';' })
		for _, line := range lines {
			var d web.Date
			if strings.TrimSpace(line) == "" {
				continue
			}
			if err := d.UnmarshalText([]byte(line)); err != nil {
				form.Invalid("away", "volunteers.form.away.format", map[string]any{"Date": strings.TrimSpace(line)})
				break
			}
			pin.UnavailableDates = append(pin.UnavailableDates, string(d))
		}
		if len(pin.UnavailableDates) > 60 {
			form.Invalid("away", "volunteers.form.away.too_many", map[string]any{"Max": 60})
		}
	}
	if form.Valid() {
		_, err = p.svc.PutProfile(ctx, pr, pin)
		if err == nil {
			web.Redirect(w, r, pageProfile+"?saved=1")
			return sdk.PageMeta{}, nil
		}
		if !form.Catch(err, "volunteers.form") {
			return sdk.PageMeta{}, err
		}
	}
	d := profileData{Form: form, New: old.UserID == "", Check: old.BackgroundCheck}
	if err := p.profileChoices(ctx, v, pr, &d, in.Neighbourhoods); err != nil {
		return sdk.PageMeta{}, err
	}
	return v.invalid(w, r, "profile", d, v.profileMeta())
}

// profileDelete deletes the profile and every sign-up; places go to the wait list.
func (p *Plugin) profileDelete(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	if err := p.svc.DeleteProfile(r.Context(), principal(r)); err != nil && errorCode(err) != sdk.CodeNotFound {
		return sdk.PageMeta{}, err
	}
	web.Redirect(w, r, pageMine+"?deleted=1")
	return sdk.PageMeta{}, nil
}

// mySignup is one of the viewer's sign-ups on "my volunteering".
type mySignup struct {
	Commitment
	Org string
}

// Path is the sign-up's action path for action.
func (m mySignup) Path(action string) string {
	return fmt.Sprintf("%s/opportunities/%s/shifts/%s/applications/%s/%s", pageBase, m.OpportunityID, m.ShiftID, m.ApplicationID, action)
}

// mineData is "my volunteering".
type mineData struct {
	Form        *web.Form
	Profile     bool
	Invitations []mySignup
	Accepted    []mySignup
	Applied     []mySignup
	Confirmed   []mySignup
	Waitlisted  []mySignup
	Past        []mySignup
	Hours       Hours
	HoursText   string
	Fits        []fitView
	Calendar    string
	Done        string
}

// fitView is one recommended shift with its reasons in the viewer's words.
type fitView struct {
	Recommendation
	Why []string
}

// mineData gathers "my volunteering".
func (p *Plugin) mineData(r *http.Request, v view, form *web.Form) (mineData, error) {
	ctx, pr := r.Context(), principal(r)
	d := mineData{Form: form, Profile: true}
	if _, err := p.svc.Profile(ctx, pr); errorCode(err) == sdk.CodeNotFound {
		d.Profile = false
	} else if err != nil {
		return d, err
	}
	my, err := p.svc.MyVolunteering(ctx, pr)
	if err != nil {
		return d, err
	}
	var orgIDs []string
	for _, l := range [][]Commitment{my.Invitations, my.Applications, my.Confirmed, my.Waitlisted, my.Past} {
		for _, c := range l {
			orgIDs = append(orgIDs, c.OrganisationID)
		}
	}
	orgs, err := p.organisationNames(ctx, orgIDs)
	if err != nil {
		return d, err
	}
	wrap := func(l []Commitment) []mySignup {
		out := make([]mySignup, 0, len(l))
		for _, c := range l {
			out = append(out, mySignup{Commitment: c, Org: orgs[c.OrganisationID]})
		}
		return out
	}
	d.Invitations, d.Confirmed, d.Waitlisted, d.Past = wrap(my.Invitations), wrap(my.Confirmed), wrap(my.Waitlisted), wrap(my.Past)
	for _, m := range wrap(my.Applications) {
		if m.Status == StatusAccepted {
			d.Accepted = append(d.Accepted, m)
		} else {
			d.Applied = append(d.Applied, m)
		}
	}
	d.Hours = my.Hours
	d.HoursText = strconv.FormatFloat(d.Hours.TotalHours, 'f', -1, 64)
	if d.Profile {
		link, err := p.svc.CalendarLink(ctx, pr)
		if err != nil {
			return d, err
		}
		d.Calendar = link.Path
		pr.Locale = v.lng
		fits, err := p.svc.Recommendations(ctx, pr, sdk.ListQuery{Limit: 5})
		if err != nil && errorCode(err) != sdk.CodeNotFound {
			return d, err
		}
		names, _, err := p.skillNames(ctx, v.lng)
		if err != nil {
			return d, err
		}
		for _, f := range fits.Items {
			d.Fits = append(d.Fits, fitView{Recommendation: f, Why: v.reasons(f.ReasonCodes, names)})
		}
	}
	return d, nil
}

func (v view) mineMeta() sdk.PageMeta {
	return sdk.PageMeta{Title: v.T("volunteers.mine.title"), NavActive: navMine, Breadcrumbs: v.crumbs()}
}

// minePage is "my volunteering".
func (p *Plugin) minePage(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	v := p.view(r)
	d, err := p.mineData(r, v, nil)
	if err != nil {
		return sdk.PageMeta{}, err
	}
	meta := v.mineMeta()
	switch done := r.URL.Query().Get("done"); done {
	case ActionConfirm, ActionWithdraw, "deleted", "calendar":
		d.Done = done
		meta.Announce = v.T("volunteers.mine.done." + done)
	}
	if r.URL.Query().Get("deleted") == "1" {
		d.Done = "deleted"
		meta.Announce = v.T("volunteers.mine.done.deleted")
	}
	return v.render(w, r, "mine", d, meta)
}

// decidePage is the form route applying action to an application: the volunteer's
// confirm and withdraw answer 303 to "my volunteering", the organiser's accept and
// decline to the opportunity's organiser page; a refusal (the shift full, started, the
// application moved on) is answered 422 with that page and the reason.
func (p *Plugin) decidePage(action, perm string) sdk.Route {
	return sdk.PostPage(pageOpportunity+"/shifts/{shiftID}/applications/{applicationID}/"+action, perm,
		func(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
			id := r.PathValue("id")
			_, err := p.svc.Decide(r.Context(), principal(r), id, r.PathValue("shiftID"), r.PathValue("applicationID"), action)
			organiser := action == ActionAccept || action == ActionDecline
			if err == nil {
				to := pageMine + "?done=" + action
				if organiser {
					to = organisePath(id) + "?done=" + action
				}
				web.Redirect(w, r, to)
				return sdk.PageMeta{}, nil
			}
			form := web.NewForm(nil)
			if !refuse(form, err) {
				return sdk.PageMeta{}, err
			}
			v := p.view(r)
			if organiser {
				return p.renderManage(w, r, v, id, form)
			}
			d, derr := p.mineData(r, v, form)
			if derr != nil {
				return sdk.PageMeta{}, derr
			}
			return v.invalid(w, r, "mine", d, v.mineMeta())
		})
}

// calendarReset gives the viewer a new calendar feed address; the old one stops
// working (someone else learnt it).
func (p *Plugin) calendarReset(w http.ResponseWriter, r *http.Request) (sdk.PageMeta, error) {
	if _, err := p.svc.ResetCalendarLink(r.Context(), principal(r)); err != nil {
		return sdk.PageMeta{}, err
	}
	web.Redirect(w, r, pageMine+"?done=calendar")
	return sdk.PageMeta{}, nil
}

// reasons are the matcher's reasons, as codes with data, in the viewer's language, so
// a list never mixes languages.
func (v view) reasons(in []match.Reason, skills map[string]string) []string {
	out := make([]string, 0, len(in))
	for _, r := range in {
		switch r.Kind {
		case match.ReasonSpeaks:
			out = append(out, v.T("volunteers.reason.speaks", "Language", languageName(v.lng, r.Value)))
		case match.ReasonSkill:
			out = append(out, cmpOr(skills[r.Value], r.Value))
		case match.ReasonFree:
			out = append(out, v.T("volunteers.reason.free."+r.Part, "Day", v.T("volunteers.day."+r.Value)))
		case match.ReasonNeighbourhood:
			out = append(out, v.T("volunteers.reason.neighbourhood"))
		case match.ReasonNoRecent:
			out = append(out, v.T("volunteers.reason.not_recently"))
		case match.ReasonFewRecent:
			out = append(out, v.T("volunteers.reason.few_hours"))
		case match.ReasonMissed:
			out = append(out, v.loc.N("volunteers.reason.missed", r.N))
		}
	}
	return out
}
