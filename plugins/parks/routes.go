package parks

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
)

// prefix is where the plugin's routes live.
const prefix = "/api/v1/parks"

// Routes is the plugin's route table: the manifest's routes, the mux and the
// OpenAPI document in one. The host checks each route's permission in its
// domain ("" = any domain in which the caller holds it); the service then
// checks the object: manager of this park, representative of this verified
// organisation. Handlers parse the request, call one service method and
// return.
func (p *Plugin) Routes() []sdk.Route {
	park := sdk.Param{Name: "id", In: "path", Format: "uuid", Description: "The park."}
	area := sdk.Param{Name: "areaID", In: "path", Format: "uuid", Description: "The area."}
	booking := sdk.Param{Name: "bookingID", In: "path", Format: "uuid", Description: "The booking."}
	event := sdk.Param{Name: "eventID", In: "path", Format: "uuid", Description: "The public event (a booking's ID)."}
	nbh := sdk.Param{Name: "neighbourhood_id", Description: "Only the parks of this neighbourhood."}
	from := sdk.Param{Name: "from", Format: "date-time", Description: "Start of the range, RFC 3339; 30 days ago when absent."}
	to := sdk.Param{Name: "to", Format: "date-time", Description: "End of the range, RFC 3339; 400 days ahead when absent."}
	onePark := sdk.Param{Name: "park_id", Format: "uuid", Description: "Only this park."}
	category := sdk.Param{Name: "category", Enum: Categories, Description: "Only events of this category."}
	routes := []sdk.Route{
		sdk.List(prefix, sdk.PermPublic, p.listParks).With(nbh).
			Doc("List parks", "Parks in name order, optionally those of one neighbourhood."),
		sdk.Post(prefix, PermParkManage, p.createPark).Status(http.StatusCreated).
			Doc("Create a park", "Needs parks.park.manage in the park's neighbourhood (city admins hold it everywhere)."),
		sdk.List(prefix+"/events", sdk.PermPublic, p.events).With(onePark, nbh, category, from, to).Errors(404).
			Doc("Public calendar", "Approved public events in start order, and those cancelled after approval (status cancelled), never requests or private events."),
		sdk.Raw("GET", prefix+"/events.ics", sdk.PermPublic, "text/calendar", p.feed).With(onePark, nbh, category, from, to).Errors(404).
			Doc("Public calendar as iCalendar", "RFC 5545; SEQUENCE is bumped by every status change, so a subscribed client drops a cancelled event."),
		sdk.Get(prefix+"/{id}", sdk.PermPublic, p.getPark).With(park).Errors(404).
			Doc("Get a park", ""),
		sdk.Put(prefix+"/{id}", PermAreaManage, p.updatePark).With(park).Errors(404).
			Doc("Edit a park", "Name, description, address, coordinates, accessibility and rules in prose; the neighbourhood and time zone stay."),
		sdk.Put(prefix+"/{id}/support-items", PermAreaManage, p.setSupportItems).With(park).Errors(404).
			Doc("Replace the support catalogue", "What the park lends, item name to quantity; bookings already approved keep theirs."),
		sdk.Get(prefix+"/{id}/support-items/available", sdk.PermPublic, p.supportAvailable).
			With(park,
				sdk.Param{Name: "from", Format: "date-time", Required: true, Description: "Start of the interval, RFC 3339."},
				sdk.Param{Name: "to", Format: "date-time", Required: true, Description: "End of the interval, RFC 3339."}).
			Errors(404).
			Doc("Support items free over an interval", "Per item, how many the park owns and how many approved bookings leave free at every instant of the interval."),
		sdk.List(prefix+"/{id}/areas", sdk.PermPublic, p.listAreas).With(park).Errors(404).
			Doc("List areas", "A park's areas, parents before children."),
		sdk.Post(prefix+"/{id}/areas", PermAreaManage, p.createArea).With(park).Status(http.StatusCreated).Errors(404).
			Doc("Create an area", "Under parent_id when given; it inherits the parent's opening hours and rules unless it narrows them (without opening hours of its own it is open whenever the parent is)."),
		sdk.Get(prefix+"/{id}/areas/{areaID}", sdk.PermPublic, p.getArea).With(park, area).Errors(404).
			Doc("Get an area", "With effective_rules: its own rules narrowed by those of the areas around it."),
		sdk.Put(prefix+"/{id}/areas/{areaID}", PermAreaManage, p.updateArea(true)).With(park, area).Errors(404).
			Doc("Edit an area", "Name, capacity, opening hours, rules and texts; the parent stays. Bookings are kept: conflicts lists those still to come, in this area and the areas inside it, that the new hours, rules or capacity conflict with."),
		sdk.Post(prefix+"/{id}/areas/{areaID}/preview", PermAreaManage, p.updateArea(false)).With(park, area).Errors(404).
			Doc("Preview an edit of an area", "As the edit, without saving (saved is false)."),
		sdk.Get(prefix+"/{id}/areas/{areaID}/free-slots", sdk.PermPublic, p.freeSlots).
			With(park, area,
				sdk.Param{Name: "from", Format: "date-time", Required: true, Description: "Start of the range, RFC 3339."},
				sdk.Param{Name: "to", Format: "date-time", Required: true, Description: "End of the range, RFC 3339; at most 366 days after from."}).
			Errors(404).
			Doc("Free slots by day", "The availability of an area split into the park's local days, every day listed, with the effective rules a request must keep."),
		sdk.Get(prefix+"/{id}/areas/{areaID}/availability", sdk.PermPublic, p.availability).
			With(park, area,
				sdk.Param{Name: "from", Format: "date-time", Required: true, Description: "Start of the range, RFC 3339."},
				sdk.Param{Name: "to", Format: "date-time", Required: true, Description: "End of the range, RFC 3339; at most 366 days after from."}).
			Errors(404).
			Doc("Free windows of an area", "Opening hours minus closures and approved bookings of the area, its ancestors and its descendants, with buffers, on the slot grid, within the notice period and the horizon."),
		sdk.List(prefix+"/{id}/bookings", sdk.PermAuthenticated, p.listBookings).
			With(park, sdk.Param{Name: "status", Enum: []string{StatusRequested, StatusApproved, StatusRejected, StatusCancelled}, Description: "Only bookings in this status."}).
			Errors(404).
			Doc("List bookings", "In start order: all of them for a manager (status=requested is the approval queue), otherwise the caller's and their organisations'. Competing open requests are marked contested."),
		sdk.Post(prefix+"/{id}/bookings", PermBookingRequest, p.requestBooking).With(park).Status(http.StatusCreated).Errors(404, 409).
			Doc("Request a booking", "repeat_weeks > 1 asks for a weekly series, decided as one. Refused when it breaks the area's rules (422) or clashes with an approved booking or a closure (409); the rule is named in error.fields.rule."),
		sdk.Get(prefix+"/{id}/bookings/{bookingID}", sdk.PermAuthenticated, p.getBooking).With(park, booking).Errors(404).
			Doc("Get a booking", "To a manager of the park or the people who asked; to anyone else it does not exist."),
		sdk.Get(prefix+"/{id}/bookings/{bookingID}/collisions", PermBookingApprove, p.collisions).With(park, booking).Errors(404).
			Doc("What a booking collides with", "To a manager of the park: the open requests competing with it and the approved events and closures in its way, in start order."),
		sdk.Post(prefix+"/{id}/bookings/{bookingID}/approve", PermBookingApprove, p.approve).With(park, booking).Errors(404, 409).
			Doc("Approve a request", "With its whole series; rejects every open request it collides with."),
		sdk.Post(prefix+"/{id}/bookings/{bookingID}/reject", PermBookingApprove, p.reject).With(park, booking).Errors(404, 409).
			Doc("Reject a request", "With its whole series; the reason is shown to the group."),
		sdk.Post(prefix+"/{id}/bookings/{bookingID}/cancel", sdk.PermAuthenticated, p.cancel).With(park, booking).Errors(404, 409).
			Doc("Cancel a booking or withdraw a request", "With its whole series (dates already over stay); by the group that asked or a manager."),
		sdk.Put(prefix+"/{id}/follow", sdk.PermAuthenticated, p.follow(true)).With(park).Errors(404).
			Doc("Follow a park's events", "You are told of its new public events and of those cancelled. Requesting a booking follows the park too."),
		sdk.Delete(prefix+"/{id}/follow", sdk.PermAuthenticated, p.follow(false)).With(park).Errors(404).
			Doc("Stop following a park's events", ""),
		sdk.Post(prefix+"/{id}/closures", PermAreaManage, p.createClosure).With(park).Status(http.StatusCreated).Errors(404, 409).
			Doc("Close an area", "A blocking booking that starts approved; refused over an approved booking (409 closure_overlap) unless cancel_bookings cancels those events' dates, with the reason their groups are told; rejects the open requests it collides with."),
		sdk.Post(prefix+"/{id}/closures/preview", PermAreaManage, p.previewClosure).With(park).Errors(404).
			Doc("Preview a closure", "The approved events, open requests and other closures it would hit; nothing is saved."),
		sdk.List(prefix+"/{id}/events", sdk.PermPublic, p.events).With(park, category, from, to).Errors(404).
			Doc("Public calendar of one park", "As the city's, for one park."),
		sdk.Raw("GET", prefix+"/{id}/events.ics", sdk.PermPublic, "text/calendar", p.feed).With(park, category, from, to).Errors(404).
			Doc("Public calendar of one park as iCalendar", "RFC 5545."),
		sdk.Raw("GET", prefix+"/{id}/events/{eventID}", sdk.PermPublic, "application/ld+json", p.eventLD).With(park, event).Errors(404).
			Doc("One public event as Schema.org JSON-LD", "An https://schema.org/Event, for search engines."),
	}
	return append(routes, p.pageRoutes()...)
}

// follow is the handler of the follow route (PUT) and of its undoing (DELETE).
func (p *Plugin) follow(on bool) func(*http.Request, sdk.NoBody) (sdk.FollowState, error) {
	return func(r *http.Request, _ sdk.NoBody) (sdk.FollowState, error) {
		return p.svc.FollowPark(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), on)
	}
}

func (p *Plugin) listParks(r *http.Request, q sdk.ListQuery) (sdk.Page[*Park], error) {
	return p.svc.ListParks(r.Context(), r.URL.Query().Get("neighbourhood_id"), q)
}

func (p *Plugin) createPark(r *http.Request, in ParkInput) (*Park, error) {
	return p.svc.CreatePark(r.Context(), sdk.PrincipalFrom(r.Context()), in)
}

func (p *Plugin) getPark(r *http.Request) (*Park, error) {
	return p.svc.GetPark(r.Context(), r.PathValue("id"))
}

func (p *Plugin) updatePark(r *http.Request, in ParkEdit) (*Park, error) {
	return p.svc.UpdatePark(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), in)
}

func (p *Plugin) getArea(r *http.Request) (*Area, error) {
	return p.svc.GetArea(r.Context(), r.PathValue("id"), r.PathValue("areaID"))
}

// updateArea is the handler of the edit (save) and of its preview.
func (p *Plugin) updateArea(save bool) func(*http.Request, AreaInput) (*AreaChange, error) {
	return func(r *http.Request, in AreaInput) (*AreaChange, error) {
		ctx, pr := r.Context(), sdk.PrincipalFrom(r.Context())
		if save {
			return p.svc.UpdateArea(ctx, pr, r.PathValue("id"), r.PathValue("areaID"), in)
		}
		return p.svc.PreviewArea(ctx, pr, r.PathValue("id"), r.PathValue("areaID"), in)
	}
}

func (p *Plugin) freeSlots(r *http.Request) (*FreeSlots, error) {
	from, to, err := queryRange(r)
	if err != nil {
		return nil, err
	}
	return p.svc.FreeSlots(r.Context(), r.PathValue("id"), r.PathValue("areaID"), from, to)
}

func (p *Plugin) supportAvailable(r *http.Request) (*SupportAvailability, error) {
	from, to, err := queryRange(r)
	if err != nil {
		return nil, err
	}
	return p.svc.SupportAvailable(r.Context(), r.PathValue("id"), from, to)
}

func (p *Plugin) collisions(r *http.Request) ([]*Booking, error) {
	return p.svc.Collisions(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("bookingID"))
}

func (p *Plugin) previewClosure(r *http.Request, in ClosureInput) (*ClosureImpact, error) {
	return p.svc.PreviewClosure(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), in)
}

func (p *Plugin) setSupportItems(r *http.Request, in map[string]int) (*Park, error) {
	return p.svc.SetSupportItems(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), in)
}

func (p *Plugin) listAreas(r *http.Request, q sdk.ListQuery) (sdk.Page[*Area], error) {
	return p.svc.ListAreas(r.Context(), r.PathValue("id"), q)
}

func (p *Plugin) createArea(r *http.Request, in AreaInput) (*Area, error) {
	return p.svc.CreateArea(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), in)
}

func (p *Plugin) availability(r *http.Request) (*Availability, error) {
	from, to, err := queryRange(r)
	if err != nil {
		return nil, err
	}
	return p.svc.Availability(r.Context(), r.PathValue("id"), r.PathValue("areaID"), from, to)
}

// queryRange reads the required from and to of the query.
func queryRange(r *http.Request) (from, to time.Time, err error) {
	q := r.URL.Query()
	if from, err = queryTime(q.Get("from"), "from"); err != nil {
		return from, to, err
	}
	to, err = queryTime(q.Get("to"), "to")
	return from, to, err
}

func (p *Plugin) listBookings(r *http.Request, q sdk.ListQuery) (sdk.Page[*Booking], error) {
	return p.svc.ListBookings(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.URL.Query().Get("status"), q)
}

func (p *Plugin) requestBooking(r *http.Request, in BookingInput) (*Booking, error) {
	return p.svc.RequestBooking(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), in)
}

func (p *Plugin) getBooking(r *http.Request) (*Booking, error) {
	return p.svc.GetBooking(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("bookingID"))
}

func (p *Plugin) approve(r *http.Request, _ sdk.NoBody) (*Booking, error) {
	return p.svc.Approve(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("bookingID"))
}

// Decision is the body of reject and cancel.
type Decision struct {
	Reason string `json:"reason" max:"4000" doc:"Why; shown to the group." example:"The meadow is being reseeded that week."`
}

func (p *Plugin) reject(r *http.Request, in Decision) (*Booking, error) {
	return p.svc.Reject(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("bookingID"), in.Reason)
}

func (p *Plugin) cancel(r *http.Request, in Decision) (*Booking, error) {
	return p.svc.Cancel(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), r.PathValue("bookingID"), in.Reason)
}

func (p *Plugin) createClosure(r *http.Request, in ClosureInput) (*Booking, error) {
	return p.svc.CreateClosure(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("id"), in)
}

// calendarFilter reads the calendar's filter from the path and the query.
func calendarFilter(r *http.Request) (CalendarFilter, error) {
	q := r.URL.Query()
	f := CalendarFilter{ParkID: q.Get("park_id"), NeighbourhoodID: q.Get("neighbourhood_id"), Category: q.Get("category")}
	if id := r.PathValue("id"); id != "" {
		f.ParkID = id
	}
	var err error
	if v := q.Get("from"); v != "" {
		if f.From, err = queryTime(v, "from"); err != nil {
			return f, err
		}
	}
	if v := q.Get("to"); v != "" {
		if f.To, err = queryTime(v, "to"); err != nil {
			return f, err
		}
	}
	return f, nil
}

func (p *Plugin) events(r *http.Request, q sdk.ListQuery) (sdk.Page[PublicEvent], error) {
	f, err := calendarFilter(r)
	if err != nil {
		return sdk.Page[PublicEvent]{}, err
	}
	return p.svc.PublicEvents(r.Context(), f, q)
}

// feed answers a whole calendar, not a page.
func (p *Plugin) feed(w http.ResponseWriter, r *http.Request) error {
	f, err := calendarFilter(r)
	if err != nil {
		return err
	}
	body, err := p.svc.Feed(r.Context(), f)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(body)
	return err
}

func (p *Plugin) eventLD(w http.ResponseWriter, r *http.Request) error {
	e, err := p.svc.PublicEvent(r.Context(), r.PathValue("id"), r.PathValue("eventID"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/ld+json")
	w.WriteHeader(http.StatusOK)
	return json.NewEncoder(w).Encode(e.JSONLD)
}

// queryTime reads a required RFC 3339 time from the query.
func queryTime(v, name string) (time.Time, error) {
	if v == "" {
		return time.Time{}, invalid(name, RuleQueryTime, "required, an RFC 3339 time")
	}
	// An unescaped "+" in an offset arrives as a space; that mistake is
	// common enough in hand-written links to forgive.
	t, err := time.Parse(time.RFC3339, strings.ReplaceAll(v, " ", "+"))
	if err != nil {
		return time.Time{}, invalid(name, RuleQueryTime, "want an RFC 3339 time such as 2025-06-07T10:00:00+03:00")
	}
	return t, nil
}
