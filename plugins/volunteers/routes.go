package volunteers

import (
	"encoding/csv"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/kvarter/kvarter/sdk"
)

const (
	base = "/api/v1/volunteers"
	opp  = base + "/opportunities/{id}"
	app  = opp + "/shifts/{shiftID}/applications/{applicationID}"
)

// routes are the manifest's routes. The host checks each route's permission before the
// request arrives; the object-level checks (organiser of this opportunity, owner of this
// application) are the Service's.
var routes = []sdk.Route{
	{Method: "GET", Path: base + "/profile", Permission: sdk.PermAuthenticated},
	{Method: "PUT", Path: base + "/profile", Permission: sdk.PermAuthenticated},
	{Method: "DELETE", Path: base + "/profile", Permission: sdk.PermAuthenticated},
	{Method: "GET", Path: base + "/skills", Permission: sdk.PermAuthenticated},
	{Method: "PUT", Path: base + "/skills/{skillID}", Permission: PermSkillManage, Domain: sdk.DomainCity},
	{Method: "PUT", Path: base + "/profiles/{userID}/background-check", Permission: PermCheckSet, Domain: sdk.DomainCity},
	{Method: "GET", Path: base + "/opportunities", Permission: sdk.PermAuthenticated},
	{Method: "POST", Path: base + "/opportunities", Permission: PermOpportunityManage},
	{Method: "GET", Path: opp, Permission: sdk.PermAuthenticated},
	{Method: "POST", Path: opp + "/publish", Permission: PermOpportunityManage},
	{Method: "POST", Path: opp + "/close", Permission: PermOpportunityManage},
	{Method: "POST", Path: opp + "/cancel", Permission: PermOpportunityManage},
	{Method: "GET", Path: opp + "/applications", Permission: PermOpportunityManage},
	{Method: "GET", Path: opp + "/roster", Permission: PermOpportunityManage},
	{Method: "GET", Path: opp + "/shifts/{shiftID}/matches", Permission: PermOpportunityManage},
	{Method: "POST", Path: opp + "/shifts/{shiftID}/applications", Permission: sdk.PermAuthenticated},
	{Method: "POST", Path: opp + "/shifts/{shiftID}/invitations", Permission: PermOpportunityManage},
	{Method: "POST", Path: app + "/accept", Permission: PermOpportunityManage},
	{Method: "POST", Path: app + "/decline", Permission: PermOpportunityManage},
	{Method: "POST", Path: app + "/confirm", Permission: sdk.PermAuthenticated},
	{Method: "POST", Path: app + "/withdraw", Permission: sdk.PermAuthenticated},
	{Method: "POST", Path: app + "/attendance", Permission: PermOpportunityManage},
	{Method: "GET", Path: base + "/roster", Permission: PermOpportunityManage},
	{Method: "GET", Path: base + "/recommendations", Permission: sdk.PermAuthenticated},
	{Method: "GET", Path: base + "/hours", Permission: sdk.PermAuthenticated},
}

type handler struct {
	svc    *Service
	logger *slog.Logger
}

func newHandler(svc *Service, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{svc: svc, logger: logger}
	mux := http.NewServeMux()
	handle := func(method, path string, fn http.HandlerFunc) { mux.HandleFunc(method+" "+path, fn) }
	handle("GET", base+"/profile", h.getProfile)
	handle("PUT", base+"/profile", h.putProfile)
	handle("DELETE", base+"/profile", h.deleteProfile)
	handle("GET", base+"/skills", h.skills)
	handle("PUT", base+"/skills/{skillID}", h.putSkill)
	handle("PUT", base+"/profiles/{userID}/background-check", h.setCheck)
	handle("GET", base+"/opportunities", h.listOpportunities)
	handle("POST", base+"/opportunities", h.createOpportunity)
	handle("GET", opp, h.getOpportunity)
	for _, to := range []string{"publish", "close", "cancel"} {
		state := map[string]string{"publish": StatePublished, "close": StateClosed, "cancel": StateCancelled}[to]
		handle("POST", opp+"/"+to, func(w http.ResponseWriter, r *http.Request) { h.setState(w, r, state) })
	}
	handle("GET", opp+"/applications", h.applications)
	handle("GET", opp+"/roster", h.roster)
	handle("GET", opp+"/shifts/{shiftID}/matches", h.matches)
	handle("POST", opp+"/shifts/{shiftID}/applications", h.apply)
	handle("POST", opp+"/shifts/{shiftID}/invitations", h.invite)
	for _, action := range []string{ActionAccept, ActionDecline, ActionConfirm, ActionWithdraw} {
		handle("POST", app+"/"+action, func(w http.ResponseWriter, r *http.Request) { h.decide(w, r, action) })
	}
	handle("POST", app+"/attendance", h.attendance)
	handle("GET", base+"/roster", h.dayRoster)
	handle("GET", base+"/recommendations", h.recommendations)
	handle("GET", base+"/hours", h.hours)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, sdk.Errorf(sdk.CodeNotFound, "no route %s %s", r.Method, r.URL.Path))
	})
	return mux
}

func principal(r *http.Request) sdk.Principal { return sdk.PrincipalFrom(r.Context()) }

// skillInput is the body of PUT /skills/{skillID}: the skill's name per language.
type skillInput struct {
	Names map[string]string `json:"names" max:"200"`
}

// invitationInput is the body of an invitation.
type invitationInput struct {
	VolunteerID string `json:"volunteer_id" max:"64"`
}

// decode reads a JSON body into v strictly (sdk.DecodeJSON).
func decode(r *http.Request, v any) error { return sdk.DecodeJSON(r, v, false) }

func queryInt(r *http.Request, name string, def int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, invalid(name, "must be a non-negative integer", sdk.RuleRange)
	}
	return n, nil
}

// fail renders err in the core's error format; internal errors are logged with the
// request id and their text never reaches the caller.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	sdk.WriteError(w, r, h.logger, err)
}

// respond renders v with status, or the error.
func (h *handler) respond(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sdk.WriteJSON(w, status, v)
}

func (h *handler) getProfile(w http.ResponseWriter, r *http.Request) {
	p, err := h.svc.Profile(r.Context(), principal(r))
	h.respond(w, r, http.StatusOK, p, err)
}

func (h *handler) putProfile(w http.ResponseWriter, r *http.Request) {
	var in ProfileInput
	if err := decode(r, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.svc.PutProfile(r.Context(), principal(r), in)
	h.respond(w, r, http.StatusOK, p, err)
}

func (h *handler) deleteProfile(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.DeleteProfile(r.Context(), principal(r)); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) skills(w http.ResponseWriter, r *http.Request) {
	sk, err := h.svc.Skills(r.Context())
	h.respond(w, r, http.StatusOK, map[string]any{"items": nonNil(sk)}, err)
}

func (h *handler) putSkill(w http.ResponseWriter, r *http.Request) {
	var in skillInput
	if err := decode(r, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	sk, err := h.svc.PutSkill(r.Context(), principal(r), Skill{ID: r.PathValue("skillID"), Names: in.Names})
	h.respond(w, r, http.StatusOK, sk, err)
}

func (h *handler) setCheck(w http.ResponseWriter, r *http.Request) {
	var in BackgroundCheck
	if err := decode(r, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.svc.SetBackgroundCheck(r.Context(), principal(r), r.PathValue("userID"), in)
	h.respond(w, r, http.StatusOK, p, err)
}

func (h *handler) listOpportunities(w http.ResponseWriter, r *http.Request) {
	limit, err := queryInt(r, "limit", 50)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page, err := h.svc.Opportunities(r.Context(), principal(r), r.URL.Query().Get("cursor"), limit)
	h.respond(w, r, http.StatusOK, page, err)
}

func (h *handler) createOpportunity(w http.ResponseWriter, r *http.Request) {
	var in OpportunityInput
	if err := decode(r, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	o, err := h.svc.CreateOpportunity(r.Context(), principal(r), in)
	h.respond(w, r, http.StatusCreated, o, err)
}

func (h *handler) getOpportunity(w http.ResponseWriter, r *http.Request) {
	o, err := h.svc.Opportunity(r.Context(), principal(r), r.PathValue("id"))
	h.respond(w, r, http.StatusOK, o, err)
}

func (h *handler) setState(w http.ResponseWriter, r *http.Request, to string) {
	o, err := h.svc.SetState(r.Context(), principal(r), r.PathValue("id"), to)
	h.respond(w, r, http.StatusOK, o, err)
}

func (h *handler) applications(w http.ResponseWriter, r *http.Request) {
	l, err := h.svc.Applications(r.Context(), principal(r), r.PathValue("id"))
	h.respond(w, r, http.StatusOK, map[string]any{"items": nonNil(l)}, err)
}

func (h *handler) roster(w http.ResponseWriter, r *http.Request) {
	ro, err := h.svc.Roster(r.Context(), principal(r), r.PathValue("id"))
	h.respond(w, r, http.StatusOK, ro, err)
}

func (h *handler) dayRoster(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ro, err := h.svc.DayRoster(r.Context(), principal(r), q.Get("date"), q.Get("organisation_id"))
	h.respond(w, r, http.StatusOK, ro, err)
}

func (h *handler) matches(w http.ResponseWriter, r *http.Request) {
	limit, err := queryInt(r, "limit", 50)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	l, err := h.svc.Matches(r.Context(), principal(r), r.PathValue("id"), r.PathValue("shiftID"), limit)
	h.respond(w, r, http.StatusOK, map[string]any{"shift_id": r.PathValue("shiftID"), "items": nonNil(l)}, err)
}

func (h *handler) apply(w http.ResponseWriter, r *http.Request) {
	a, err := h.svc.Apply(r.Context(), principal(r), r.PathValue("id"), r.PathValue("shiftID"))
	h.respond(w, r, http.StatusCreated, a, err)
}

func (h *handler) invite(w http.ResponseWriter, r *http.Request) {
	var in invitationInput
	if err := decode(r, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	a, err := h.svc.Invite(r.Context(), principal(r), r.PathValue("id"), r.PathValue("shiftID"), in.VolunteerID)
	h.respond(w, r, http.StatusCreated, a, err)
}

func (h *handler) decide(w http.ResponseWriter, r *http.Request, action string) {
	a, err := h.svc.Decide(r.Context(), principal(r), r.PathValue("id"), r.PathValue("shiftID"), r.PathValue("applicationID"), action)
	h.respond(w, r, http.StatusOK, a, err)
}

func (h *handler) attendance(w http.ResponseWriter, r *http.Request) {
	var in AttendanceInput
	if err := decode(r, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	a, err := h.svc.RecordAttendance(r.Context(), principal(r), r.PathValue("id"), r.PathValue("shiftID"), r.PathValue("applicationID"), in)
	h.respond(w, r, http.StatusOK, a, err)
}

func (h *handler) recommendations(w http.ResponseWriter, r *http.Request) {
	limit, err := queryInt(r, "limit", 20)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	l, err := h.svc.Recommendations(r.Context(), principal(r), limit)
	h.respond(w, r, http.StatusOK, map[string]any{"items": nonNil(l)}, err)
}

func (h *handler) hours(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "csv" {
		h.fail(w, r, invalid("format", "must be json or csv", RuleEnum))
		return
	}
	hs, err := h.svc.Hours(r.Context(), principal(r))
	if err != nil || format != "csv" {
		h.respond(w, r, http.StatusOK, hs, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="volunteer-hours.csv"`)
	w.WriteHeader(http.StatusOK)
	writeHoursCSV(w, hs)
}

// writeHoursCSV writes one row per shift and a total row; hours have two decimals so a
// spreadsheet sums them without surprises.
func writeHoursCSV(w io.Writer, hs Hours) {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"date", "opportunity", "start", "end", "status", "hours"})
	for _, e := range hs.Entries {
		_ = cw.Write([]string{e.Start.Format("2006-01-02"), csvSafe(e.Title), e.Start.Format("2006-01-02T15:04:05Z07:00"),
			e.End.Format("2006-01-02T15:04:05Z07:00"), e.Status, strconv.FormatFloat(float64(e.Minutes)/60, 'f', 2, 64)})
	}
	_ = cw.Write([]string{"", "total", "", "", "", strconv.FormatFloat(hs.TotalHours, 'f', 2, 64)})
	cw.Flush()
}

// csvSafe keeps a title a spreadsheet would read as a formula from being run as one.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
