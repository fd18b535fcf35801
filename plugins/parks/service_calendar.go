package parks

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/kvarter/kvarter/plugins/parks/schedule"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/ical"
	"github.com/kvarter/kvarter/sdk/store"
)

// The public calendar: approved public events, and those cancelled after
// approval (so subscribed calendars learn of the cancellation), never
// requests, rejections, private events or anyone's contact details.

// CalendarFilter narrows the public calendar to one park or neighbourhood
// and a time range; zero values mean the whole city and the default range.
type CalendarFilter struct {
	ParkID          string
	NeighbourhoodID string
	// Category is one of Categories; "" for every category.
	Category string
	From, To time.Time
}

// Default calendar range around now, and the most events one feed holds.
const (
	calendarPast    = 30 * 24 * time.Hour
	calendarAhead   = 400 * 24 * time.Hour
	maxFeedEvents   = 2000
	prodID          = "-//Kvarter//parks//EN"
	uidDomainSuffix = "@parks.kvarter"
)

// PublicEvent is one event of the public calendar.
type PublicEvent struct {
	ID               string    `json:"id"`
	Title            string    `json:"title"`
	Description      string    `json:"description"`
	Category         string    `json:"category"`
	Status           string    `json:"status"`
	Start            time.Time `json:"start"`
	End              time.Time `json:"end"`
	ParkID           string    `json:"park_id"`
	ParkName         string    `json:"park_name"`
	NeighbourhoodID  string    `json:"neighbourhood_id"`
	AreaID           string    `json:"area_id"`
	AreaName         string    `json:"area_name"`
	OrganisationName string    `json:"organisation_name"`
	// URL is the event's public page: absolute when the public_url setting
	// is set, else a path on the site.
	URL       string         `json:"url"`
	Sequence  int            `json:"sequence"`
	UpdatedAt time.Time      `json:"updated_at"`
	JSONLD    map[string]any `json:"json_ld"`
}

// PublicEvents returns a page of the calendar in start order.
func (s *Service) PublicEvents(ctx context.Context, f CalendarFilter, q sdk.ListQuery) (sdk.Page[PublicEvent], error) {
	list, err := s.publicEvents(ctx, f, q)
	if err != nil {
		return sdk.Page[PublicEvent]{}, err
	}
	return sdk.NewPage(list, q, func(e PublicEvent) []any { return []any{store.Micros(e.Start), e.ID} }), nil
}

// publicEvents returns the events of the calendar after q's cursor, at
// most q.Fetch() of them.
func (s *Service) publicEvents(ctx context.Context, f CalendarFilter, q sdk.ListQuery) ([]PublicEvent, error) {
	now := s.now().UTC()
	if f.From.IsZero() {
		f.From = now.Add(-calendarPast)
	}
	if f.To.IsZero() {
		f.To = now.Add(calendarAhead)
	}
	if !f.From.Before(f.To) {
		return nil, invalid("to", schedule.RuleEndBeforeStart, "must be after from")
	}
	if f.Category != "" && !slices.Contains(Categories, f.Category) {
		return nil, invalid("category", RuleCategory, "one of "+strings.Join(Categories, ", "))
	}
	parks := map[string]*Park{}
	ef := eventFilter{From: f.From, To: f.To, Category: f.Category, Page: q}
	switch {
	case f.ParkID != "":
		p, err := getPark(ctx, s.st.db, f.ParkID)
		if err != nil {
			return nil, err
		}
		parks[p.ID] = p
		ef.ParkIDs = []string{p.ID}
	default:
		list, err := listParks(ctx, s.st.db, f.NeighbourhoodID, sdk.ListQuery{})
		if err != nil {
			return nil, err
		}
		for _, p := range list {
			parks[p.ID] = p
			if f.NeighbourhoodID != "" {
				ef.ParkIDs = append(ef.ParkIDs, p.ID)
			}
		}
		if f.NeighbourhoodID != "" && len(list) == 0 {
			return []PublicEvent{}, nil
		}
	}
	list, err := publicEvents(ctx, s.st.db, ef)
	if err != nil {
		return nil, err
	}
	trees := map[string]areaTree{}
	out := make([]PublicEvent, 0, len(list))
	for _, b := range list {
		p := parks[b.ParkID]
		if p == nil {
			continue
		}
		t, ok := trees[p.ID]
		if !ok {
			if t, err = parkAreas(ctx, s.st.db, p.ID); err != nil {
				return nil, err
			}
			trees[p.ID] = t
		}
		areaName := ""
		if a := t[b.AreaID]; a != nil {
			areaName = a.Name
		}
		v := b.view(now)
		e := PublicEvent{ID: b.ID, Title: b.Title, Description: b.Description, Category: b.Category, Status: v.Status,
			Start: b.Start, End: b.End, ParkID: p.ID, ParkName: p.Name, NeighbourhoodID: p.NeighbourhoodID,
			AreaID: b.AreaID, AreaName: areaName, OrganisationName: b.OrganisationName,
			URL: s.link("/parks/" + p.ID + "/events/" + b.ID), Sequence: b.Sequence, UpdatedAt: b.UpdatedAt}
		e.JSONLD = jsonLD(e, p)
		out = append(out, e)
	}
	return out, nil
}

// PublicEvent returns one public event, for its Schema.org JSON-LD.
func (s *Service) PublicEvent(ctx context.Context, parkID, id string) (*PublicEvent, error) {
	b, err := getBooking(ctx, s.st.db, parkID, id)
	if err != nil {
		return nil, err
	}
	if b.Kind != KindEvent || !b.Public || !b.wasApproved {
		return nil, notFound("event", id)
	}
	list, err := s.publicEvents(ctx, CalendarFilter{ParkID: parkID, From: b.Start, To: b.End}, sdk.ListQuery{})
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].ID == id {
			return &list[i], nil
		}
	}
	return nil, notFound("event", id)
}

// link is a page of the site: absolute with the public_url setting. IDs are
// UUIDs, so a path needs no escaping.
func (s *Service) link(path string) string { return s.settings.PublicURL + path }

// jsonLD describes an event for search engines (https://schema.org/Event):
// its location is a Place with the PostalAddress search engines require,
// and coordinates when the park has them.
func jsonLD(e PublicEvent, p *Park) map[string]any {
	status := "https://schema.org/EventScheduled"
	if e.Status == StatusCancelled {
		status = "https://schema.org/EventCancelled"
	}
	loc := p.location()
	ld := map[string]any{
		"@context":            "https://schema.org",
		"@type":               "Event",
		"@id":                 "urn:uuid:" + e.ID,
		"name":                e.Title,
		"description":         e.Description,
		"startDate":           e.Start.In(loc).Format(time.RFC3339),
		"endDate":             e.End.In(loc).Format(time.RFC3339),
		"eventStatus":         status,
		"eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
		"isAccessibleForFree": true,
		"url":                 e.URL,
		"location":            place(e, p),
	}
	if e.OrganisationName != "" {
		ld["organizer"] = map[string]any{"@type": "Organization", "name": e.OrganisationName}
	}
	return ld
}

func place(e PublicEvent, p *Park) map[string]any {
	addr := map[string]any{"@type": "PostalAddress", "addressLocality": p.Address.Locality}
	if p.Address.StreetAddress != "" {
		addr["streetAddress"] = p.Address.StreetAddress
	}
	if p.Address.PostalCode != "" {
		addr["postalCode"] = p.Address.PostalCode
	}
	if p.Address.Locality == "" {
		// Search engines want an address; the park's name is the one every
		// local reader knows when staff have not entered one.
		addr["addressLocality"] = p.Name
	}
	pl := map[string]any{"@type": "Place", "name": e.AreaName + ", " + e.ParkName, "address": addr}
	if p.Geo != nil {
		pl["geo"] = map[string]any{"@type": "GeoCoordinates", "latitude": p.Geo.Latitude, "longitude": p.Geo.Longitude}
	}
	return pl
}

// organizer is the ORGANIZER of a park's feed events: the parks office's
// email when configured, else the park's page, else its ID as a URN — each a
// URI, as a calendar user address must be.
func (s *Service) organizer(p *Park) *ical.Organizer {
	o := &ical.Organizer{Name: p.Name}
	switch {
	case s.settings.OrganizerEmail != "":
		o.Address = "mailto:" + s.settings.OrganizerEmail
	case s.settings.PublicURL != "":
		o.Address = s.link("/parks/" + p.ID)
	default:
		o.Address = "urn:uuid:" + p.ID
	}
	return o
}

// Feed renders the calendar as RFC 5545, at most maxFeedEvents events: a
// feed is a whole calendar, not a page. SEQUENCE is the booking's
// revision, bumped by every status change, so a client replaces its copy
// when an event is cancelled.
func (s *Service) Feed(ctx context.Context, f CalendarFilter) ([]byte, error) {
	events, err := s.publicEvents(ctx, f, sdk.ListQuery{Limit: maxFeedEvents - 1})
	if err != nil {
		return nil, err
	}
	parks := map[string]*Park{}
	name := "Park events"
	if f.ParkID != "" {
		p, err := getPark(ctx, s.st.db, f.ParkID)
		if err != nil {
			return nil, err
		}
		name = p.Name + " events"
	}
	stamp := s.now().UTC().Truncate(time.Second)
	cal := ical.Calendar{ProdID: prodID, Name: name, Events: make([]ical.Event, 0, len(events))}
	for _, e := range events {
		status := ical.StatusConfirmed
		if e.Status == StatusCancelled {
			status = ical.StatusCancelled
		}
		desc := e.Description
		if e.OrganisationName != "" {
			desc = "Organised by " + e.OrganisationName + ".\n\n" + desc
		}
		p := parks[e.ParkID]
		if p == nil {
			if p, err = getPark(ctx, s.st.db, e.ParkID); err != nil {
				return nil, err
			}
			parks[e.ParkID] = p
		}
		url := ""
		if s.settings.PublicURL != "" { // a URL property must be an absolute URI
			url = e.URL
		}
		cal.Events = append(cal.Events, ical.Event{
			UID: e.ID + uidDomainSuffix, Stamp: stamp, Start: e.Start, End: e.End, URL: url, Organizer: s.organizer(p), Geo: geo(p),
			Summary: e.Title, Description: desc, Location: location(e, p),
			Status: status, Sequence: e.Sequence, LastModified: e.UpdatedAt.Truncate(time.Second),
			Categories: []string{e.Category},
		})
	}
	return cal.Bytes()
}

// geo is the GEO of a park's feed events, nil when staff have not placed it.
func geo(p *Park) *ical.Geo {
	if p.Geo == nil {
		return nil
	}
	return &ical.Geo{Latitude: p.Geo.Latitude, Longitude: p.Geo.Longitude}
}

// location is the LOCATION of a feed event: the area and park, and the
// park's address when staff entered one.
func location(e PublicEvent, p *Park) string {
	parts := []string{e.AreaName, e.ParkName}
	for _, v := range []string{p.Address.StreetAddress, strings.TrimSpace(p.Address.PostalCode + " " + p.Address.Locality)} {
		if v != "" {
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, ", ")
}
