package parks

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
)

// prefix is where the plugin's routes live.
const prefix = "/api/v1/parks"

// route is one row of the route table: the manifest's routes and the
// handler's mux are both read from it, so a route cannot be served without
// being declared, nor declared without being served. The host checks perm
// in the route's domain ("" = any domain in which the caller holds it);
// the service then checks the object: manager of this park, representative
// of this verified organisation.
type route struct {
	method, path, perm string
	serve              func(h *handler, w http.ResponseWriter, r *http.Request)
}

// routes is the plugin's route table.
var routes = []route{
	{"GET", prefix, sdk.PermPublic, (*handler).listParks},
	{"POST", prefix, PermParkManage, (*handler).createPark},
	{"GET", prefix + "/events", sdk.PermPublic, (*handler).events},
	{"GET", prefix + "/events.ics", sdk.PermPublic, (*handler).feed},
	{"GET", prefix + "/{id}", sdk.PermPublic, (*handler).getPark},
	{"PUT", prefix + "/{id}/support-items", PermAreaManage, (*handler).setSupportItems},
	{"GET", prefix + "/{id}/areas", sdk.PermPublic, (*handler).listAreas},
	{"POST", prefix + "/{id}/areas", PermAreaManage, (*handler).createArea},
	{"GET", prefix + "/{id}/areas/{areaID}/availability", sdk.PermPublic, (*handler).availability},
	{"GET", prefix + "/{id}/bookings", sdk.PermAuthenticated, (*handler).listBookings},
	{"POST", prefix + "/{id}/bookings", PermBookingRequest, (*handler).requestBooking},
	{"GET", prefix + "/{id}/bookings/{bookingID}", sdk.PermAuthenticated, (*handler).getBooking},
	{"POST", prefix + "/{id}/bookings/{bookingID}/approve", PermBookingApprove, (*handler).approve},
	{"POST", prefix + "/{id}/bookings/{bookingID}/reject", PermBookingApprove, (*handler).reject},
	{"POST", prefix + "/{id}/bookings/{bookingID}/cancel", sdk.PermAuthenticated, (*handler).cancel},
	{"POST", prefix + "/{id}/closures", PermAreaManage, (*handler).createClosure},
	{"GET", prefix + "/{id}/events", sdk.PermPublic, (*handler).events},
	{"GET", prefix + "/{id}/events.ics", sdk.PermPublic, (*handler).feed},
	{"GET", prefix + "/{id}/events/{eventID}", sdk.PermPublic, (*handler).eventLD},
}

// manifestRoutes is the route table as the manifest declares it.
func manifestRoutes() []sdk.Route {
	out := make([]sdk.Route, len(routes))
	for i, r := range routes {
		out[i] = sdk.Route{Method: r.method, Path: r.path, Permission: r.perm}
	}
	return out
}

// handler serves the route table: each handler parses, calls one service
// method and renders.
type handler struct {
	svc *Service
	mux *http.ServeMux
}

func newHandler(svc *Service) *handler {
	h := &handler{svc: svc, mux: http.NewServeMux()}
	for _, rt := range routes {
		h.mux.HandleFunc(rt.method+" "+rt.path, func(w http.ResponseWriter, r *http.Request) { rt.serve(h, w, r) })
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mux.ServeHTTP(w, r)
}

// list is the shape of every paginated list.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func (h *handler) listParks(w http.ResponseWriter, r *http.Request) {
	parks, err := h.svc.ListParks(r.Context(), r.URL.Query().Get("neighbourhood_id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sdk.WriteJSON(w, http.StatusOK, list[*Park]{Items: parks})
}

func (h *handler) createPark(w http.ResponseWriter, r *http.Request) {
	var in ParkInput
	if !h.decode(w, r, &in) {
		return
	}
	p, err := h.svc.CreatePark(r.Context(), sdk.PrincipalFrom(r.Context()), in)
	h.render(w, r, http.StatusCreated, p, err)
}

func (h *handler) getPark(w http.ResponseWriter, r *http.Request) {
	p, err := h.svc.GetPark(r.Context(), r.PathValue("id"))
	h.render(w, r, http.StatusOK, p, err)
}

func (h *handler) setSupportItems(w http.ResponseWriter, r *http.Request) {
	var in map[string]int
	if !h.decode(w, r, &in) {
		return
	}
	p, err := h.svc.SetSupportItems(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), in)
	h.render(w, r, http.StatusOK, p, err)
}

func (h *handler) listAreas(w http.ResponseWriter, r *http.Request) {
	areas, err := h.svc.ListAreas(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sdk.WriteJSON(w, http.StatusOK, list[*Area]{Items: areas})
}

func (h *handler) createArea(w http.ResponseWriter, r *http.Request) {
	var in AreaInput
	if !h.decode(w, r, &in) {
		return
	}
	a, err := h.svc.CreateArea(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), in)
	h.render(w, r, http.StatusCreated, a, err)
}

func (h *handler) availability(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, err := queryTime(q.Get("from"), "from")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	to, err := queryTime(q.Get("to"), "to")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	av, err := h.svc.Availability(r.Context(), r.PathValue("id"), r.PathValue("areaID"), from, to)
	h.render(w, r, http.StatusOK, av, err)
}

func (h *handler) listBookings(w http.ResponseWriter, r *http.Request) {
	limit, offset, err := paging(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	items, err := h.svc.ListBookings(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"),
		ListFilter{Status: r.URL.Query().Get("status"), Limit: limit + 1, Offset: offset})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sdk.WriteJSON(w, http.StatusOK, page(items, limit, offset))
}

func (h *handler) requestBooking(w http.ResponseWriter, r *http.Request) {
	var in BookingInput
	if !h.decode(w, r, &in) {
		return
	}
	b, err := h.svc.RequestBooking(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), in)
	h.render(w, r, http.StatusCreated, b, err)
}

func (h *handler) getBooking(w http.ResponseWriter, r *http.Request) {
	b, err := h.svc.GetBooking(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("bookingID"))
	h.render(w, r, http.StatusOK, b, err)
}

func (h *handler) approve(w http.ResponseWriter, r *http.Request) {
	b, err := h.svc.Approve(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("bookingID"))
	h.render(w, r, http.StatusOK, b, err)
}

// decision is the body of reject and cancel.
type decision struct {
	Reason string `json:"reason" max:"4000"`
}

func (h *handler) reject(w http.ResponseWriter, r *http.Request) {
	var in decision
	if !h.decode(w, r, &in) {
		return
	}
	b, err := h.svc.Reject(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("bookingID"), in.Reason)
	h.render(w, r, http.StatusOK, b, err)
}

func (h *handler) cancel(w http.ResponseWriter, r *http.Request) {
	var in decision
	if !h.decode(w, r, &in) {
		return
	}
	b, err := h.svc.Cancel(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("bookingID"), in.Reason)
	h.render(w, r, http.StatusOK, b, err)
}

func (h *handler) createClosure(w http.ResponseWriter, r *http.Request) {
	var in ClosureInput
	if !h.decode(w, r, &in) {
		return
	}
	b, err := h.svc.CreateClosure(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), in)
	h.render(w, r, http.StatusCreated, b, err)
}

func (h *handler) calendarFilter(r *http.Request) (CalendarFilter, int, error) {
	q := r.URL.Query()
	f := CalendarFilter{ParkID: q.Get("park_id"), NeighbourhoodID: q.Get("neighbourhood_id")}
	if id := r.PathValue("id"); id != "" {
		f.ParkID = id
	}
	var err error
	if v := q.Get("from"); v != "" {
		if f.From, err = queryTime(v, "from"); err != nil {
			return f, 0, err
		}
	}
	if v := q.Get("to"); v != "" {
		if f.To, err = queryTime(v, "to"); err != nil {
			return f, 0, err
		}
	}
	limit, offset, err := paging(r)
	f.Limit, f.Offset = limit+1, offset
	return f, limit, err
}

func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	f, limit, err := h.calendarFilter(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	items, err := h.svc.PublicEvents(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sdk.WriteJSON(w, http.StatusOK, page(items, limit, f.Offset))
}

func (h *handler) feed(w http.ResponseWriter, r *http.Request) {
	f, _, err := h.calendarFilter(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// A feed is a whole calendar, not a page.
	f.Limit, f.Offset = maxFeedEvents, 0
	name := "Park events"
	if f.ParkID != "" {
		if p, err := h.svc.GetPark(r.Context(), f.ParkID); err == nil {
			name = p.Name + " events"
		}
	}
	body, err := h.svc.Feed(r.Context(), f, name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func (h *handler) eventLD(w http.ResponseWriter, r *http.Request) {
	e, err := h.svc.PublicEvent(r.Context(), r.PathValue("id"), r.PathValue("eventID"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/ld+json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(e.JSONLD)
}

// --- helpers ---

func queryTime(v, name string) (time.Time, error) {
	if v == "" {
		return time.Time{}, &sdk.Error{Code: sdk.CodeInvalid, Malformed: true, Message: name + ": required",
			Fields: map[string]string{name: "required, an RFC 3339 time"}}
	}
	// An unescaped "+" in an offset arrives as a space; that mistake is
	// common enough in hand-written links to forgive.
	t, err := time.Parse(time.RFC3339, strings.ReplaceAll(v, " ", "+"))
	if err != nil {
		return time.Time{}, &sdk.Error{Code: sdk.CodeInvalid, Malformed: true, Message: name + ": want an RFC 3339 time",
			Fields: map[string]string{name: "want an RFC 3339 time such as 2025-06-07T10:00:00+03:00"}}
	}
	return t, nil
}

// paging reads limit and the opaque cursor (an encoded offset).
func paging(r *http.Request) (limit, offset int, err error) {
	q := r.URL.Query()
	limit = defaultListLimit
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxListLimit {
			return 0, 0, &sdk.Error{Code: sdk.CodeInvalid, Malformed: true, Message: "limit: 1 to " + strconv.Itoa(maxListLimit),
				Fields: map[string]string{"limit": "1 to " + strconv.Itoa(maxListLimit)}}
		}
	}
	if c := q.Get("cursor"); c != "" {
		raw, derr := base64.RawURLEncoding.DecodeString(c)
		s, ok := strings.CutPrefix(string(raw), "o:")
		if offset, err = strconv.Atoi(s); derr != nil || !ok || err != nil || offset < 0 {
			return 0, 0, &sdk.Error{Code: sdk.CodeInvalid, Malformed: true, Message: "cursor: not a cursor this API gave out",
				Fields: map[string]string{"cursor": "invalid"}}
		}
	}
	return limit, offset, nil
}

// page trims a result fetched with limit+1 rows and sets the cursor when
// there is more.
func page[T any](items []T, limit, offset int) list[T] {
	out := list[T]{Items: items}
	if len(items) > limit {
		out.Items = items[:limit]
		out.NextCursor = base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(offset+limit)))
	}
	if out.Items == nil {
		out.Items = []T{}
	}
	return out
}

func (h *handler) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := sdk.DecodeJSON(r, v, false); err != nil {
		h.fail(w, r, err)
		return false
	}
	return true
}

func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sdk.WriteJSON(w, status, v)
}

// fail answers with err. Only internal errors are logged, and their text
// never leaves the plugin: the caller gets the request id to quote.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	sdk.WriteError(w, r, h.svc.log, err)
}
