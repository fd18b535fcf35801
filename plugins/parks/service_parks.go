package parks

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kvarter/kvarter/plugins/parks/schedule"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Parks and their areas: creating them, reading them, and the short-lived
// caches the request path reads them from.

// ParkInput creates a park.
type ParkInput struct {
	Name            string         `json:"name" max:"200"`
	NeighbourhoodID string         `json:"neighbourhood_id" max:"64"`
	TimeZone        string         `json:"time_zone" max:"64"`
	SupportItems    map[string]int `json:"support_items" min:"0" max:"100000"`
	ParkDetails
}

// CreatePark creates a park in a neighbourhood; it needs parks.park.manage
// there (city admins hold it everywhere).
func (s *Service) CreatePark(ctx context.Context, pr sdk.Principal, in ParkInput) (*Park, error) {
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "" || utf8.RuneCountInString(in.Name) > maxTitle:
		return nil, invalid("name", RuleName, fmt.Sprintf("required, at most %d characters", maxTitle))
	case in.NeighbourhoodID == "":
		return nil, invalid("neighbourhood_id", RuleNeighbourhood, "required")
	}
	if err := s.require(ctx, pr, PermParkManage, "nbh:"+in.NeighbourhoodID, RuleParkManager,
		"You cannot create parks in this neighbourhood."); err != nil {
		return nil, err
	}
	nbhs, err := s.host.Neighbourhoods(ctx, []string{in.NeighbourhoodID})
	if err != nil {
		return nil, fmt.Errorf("look up neighbourhood: %w", err)
	}
	if len(nbhs) == 0 || nbhs[0].Archived {
		return nil, invalid("neighbourhood_id", RuleNeighbourhood, "no such neighbourhood")
	}
	if in.TimeZone == "" {
		in.TimeZone = s.cityTZ
	}
	if _, err := sdk.LoadTimeZone(in.TimeZone); err != nil {
		return nil, invalid("time_zone", RuleTimeZone, "must be an IANA time zone such as Europe/Helsinki (not Local)")
	}
	items := in.SupportItems
	if items == nil {
		items = s.settings.DefaultSupport
	}
	if err := checkCatalogue(items); err != nil {
		return nil, err
	}
	details, err := checkDetails(in.ParkDetails)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	p := &Park{ID: newID(), Name: in.Name, NeighbourhoodID: in.NeighbourhoodID, TimeZone: in.TimeZone,
		SupportItems: items, ParkDetails: details, CreatedAt: now, UpdatedAt: now}
	if p.SupportItems == nil {
		p.SupportItems = map[string]int{}
	}
	if err := insertPark(ctx, s.st.db, p); err != nil {
		return nil, err
	}
	s.audit(ctx, pr, "parks.park.create", parkDomain(p), p.ID, map[string]any{"name": p.Name})
	return p, nil
}

func checkCatalogue(items map[string]int) error {
	for name, q := range items {
		if strings.TrimSpace(name) == "" || q < 0 {
			return invalid("support_items", RuleSupportItems, fmt.Sprintf("%q: want a name and a quantity of at least 0", name))
		}
	}
	return nil
}

// ListParks returns a page of parks in name order, optionally of one
// neighbourhood.
func (s *Service) ListParks(ctx context.Context, neighbourhoodID string, q sdk.ListQuery) (sdk.Page[*Park], error) {
	list, err := listParks(ctx, s.st.db, neighbourhoodID, q)
	if err != nil {
		return sdk.Page[*Park]{}, err
	}
	return sdk.NewPage(list, q, func(p *Park) []any { return []any{p.Name, p.ID} }), nil
}

// GetPark returns one park.
func (s *Service) GetPark(ctx context.Context, id string) (*Park, error) {
	return getPark(ctx, s.st.db, id)
}

// SetSupportItems replaces a park's support catalogue. Lowering a quantity
// does not touch bookings already approved.
func (s *Service) SetSupportItems(ctx context.Context, pr sdk.Principal, parkID string, items map[string]int) (*Park, error) {
	park, err := getPark(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	if err := s.require(ctx, pr, PermAreaManage, parkDomain(park), RuleParkManager, "Only a manager of "+park.Name+" can do this."); err != nil {
		return nil, err
	}
	if items == nil {
		items = map[string]int{}
	}
	if err := checkCatalogue(items); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	if err := updateParkItems(ctx, s.st.db, parkID, items, now); err != nil {
		return nil, err
	}
	s.parks.Delete(parkID)
	park.SupportItems, park.UpdatedAt = items, now
	s.audit(ctx, pr, "parks.park.support_items", parkDomain(park), park.ID, map[string]any{"items": items})
	return park, nil
}

// AreaInput creates an area.
type AreaInput struct {
	Name          string    `json:"name" max:"200"`
	ParentID      string    `json:"parent_id" max:"64"`
	Capacity      int       `json:"capacity" min:"1" max:"1000000"`
	OpeningHours  *HoursDoc `json:"opening_hours" doc:"Absent: always open within the parent's hours."`
	Rules         RulesDoc  `json:"rules" doc:"Zero is no limit of its own; the parent's rules apply unless these are narrower."`
	Description   string    `json:"description" max:"4000"`
	Accessibility string    `json:"accessibility" max:"4000"`
}

// CreateArea adds an area to a park, under parent when given. The area
// inherits its parent's opening hours and rules unless it narrows them.
func (s *Service) CreateArea(ctx context.Context, pr sdk.Principal, parkID string, in AreaInput) (*Area, error) {
	park, err := getPark(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	if err := s.require(ctx, pr, PermAreaManage, parkDomain(park), RuleParkManager, "Only a manager of "+park.Name+" can do this."); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	a := &Area{ID: newID(), ParkID: parkID, ParentID: in.ParentID, CreatedAt: now, UpdatedAt: now}
	if err := a.set(in); err != nil {
		return nil, err
	}
	err = s.st.db.InTx(ctx, func(tx *store.Tx) error {
		tree, err := parkAreas(ctx, tx, parkID)
		if err != nil {
			return err
		}
		if in.ParentID != "" && tree[in.ParentID] == nil {
			return invalid("parent_id", RuleAreaParent, "no such area in this park")
		}
		if err := tree.with(a); err != nil {
			return err
		}
		return insertArea(ctx, tx, a)
	})
	if err != nil {
		return nil, err
	}
	s.areas.Delete(parkID)
	s.audit(ctx, pr, "parks.area.create", parkDomain(park), a.ID, map[string]any{"park_id": parkID, "name": a.Name})
	return a, nil
}

// set checks in and applies it to a (all but the parent, which never changes).
func (a *Area) set(in AreaInput) error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || utf8.RuneCountInString(in.Name) > maxTitle {
		return invalid("name", RuleName, fmt.Sprintf("required, at most %d characters", maxTitle))
	}
	if in.Capacity < 1 {
		return invalid("capacity", RuleCapacity, "must be at least 1")
	}
	for field, v := range map[string]string{"description": in.Description, "accessibility": in.Accessibility} {
		if err := checkText(field, v); err != nil {
			return err
		}
	}
	hours := alwaysOpen()
	if in.OpeningHours != nil {
		hours = *in.OpeningHours
	}
	sh, err := hours.toSchedule()
	if err != nil {
		return err
	}
	rules := in.Rules.toSchedule()
	if err := schedule.ValidateConfig(sh, rules); err != nil {
		return &sdk.Error{Code: sdk.CodeInvalid, Message: err.Error(), Fields: map[string]string{"rule": RuleAreaConfig}}
	}
	a.Name, a.Capacity, a.Description, a.Accessibility = in.Name, in.Capacity, in.Description, in.Accessibility
	a.OpeningHours, a.Rules, a.hours, a.rules = hours, in.Rules, sh, rules
	return nil
}

// with puts a (new or changed, its own hours and rules set) into the tree
// and works out what it and its descendants inherit; it refuses the change
// when that leaves any of them misconfigured, e.g. off a parent's slot grid.
func (t areaTree) with(a *Area) error {
	c := *a
	t[a.ID] = &c
	t.inherit()
	*a = *t[a.ID]
	for id, x := range t {
		if x.configErr != nil && (id == a.ID || slices.Contains(t.ancestors(id), a.ID)) {
			return &sdk.Error{Code: sdk.CodeInvalid, Fields: map[string]string{"rule": RuleAreaConfig},
				Message: fmt.Sprintf("With the rules of the areas around it, %s would be misconfigured: %v", x.Name, x.configErr)}
		}
	}
	return nil
}

// ListAreas returns a page of a park's areas, parents before children
// (by depth, then creation). A park has tens of areas, so the page is cut
// from the whole tree; the key (depth, created_at, id) of an area never
// changes, so pages stay stable while areas are added.
func (s *Service) ListAreas(ctx context.Context, parkID string, q sdk.ListQuery) (sdk.Page[*Area], error) {
	if err := checkKey(q, "iis"); err != nil {
		return sdk.Page[*Area]{}, err
	}
	if _, err := getPark(ctx, s.st.db, parkID); err != nil {
		return sdk.Page[*Area]{}, err
	}
	tree, err := parkAreas(ctx, s.st.db, parkID)
	if err != nil {
		return sdk.Page[*Area]{}, err
	}
	type keyed struct {
		depth, created int64
		a              *Area
	}
	all := make([]keyed, 0, len(tree))
	for _, a := range tree {
		all = append(all, keyed{int64(len(tree.ancestors(a.ID))), store.Micros(a.CreatedAt), a})
	}
	order := func(x keyed, depth, created int64, id string) int {
		return cmp.Or(cmp.Compare(x.depth, depth), cmp.Compare(x.created, created), strings.Compare(x.a.ID, id))
	}
	slices.SortFunc(all, func(x, y keyed) int { return order(x, y.depth, y.created, y.a.ID) })
	if q.Key != nil {
		depth, created, id := q.Key[0].(int64), q.Key[1].(int64), q.Key[2].(string)
		all = slices.DeleteFunc(all, func(x keyed) bool { return order(x, depth, created, id) <= 0 })
	}
	out := make([]*Area, 0, min(len(all), q.Fetch()))
	for _, x := range all[:min(len(all), q.Fetch())] {
		out = append(out, x.a)
	}
	return sdk.NewPage(out, q, func(a *Area) []any {
		return []any{int64(len(tree.ancestors(a.ID))), store.Micros(a.CreatedAt), a.ID}
	}), nil
}

// cachedAreas returns a park's area tree for the request path, loaded at most
// parkCacheTTL ago and afresh when it lacks areaID. Areas can be edited; this
// node forgets a park's tree when it changes one, and another node's change
// is seen within the TTL. Callers use the area and its ancestors only
// (blocking rows of descendants sit on the area itself); decisions load the
// whole tree inside their transaction.
func (s *Service) cachedAreas(ctx context.Context, parkID, areaID string) (areaTree, error) {
	now := time.Now()
	if v, ok := s.areas.Load(parkID); ok {
		if e := v.(cachedTree); e.tree[areaID] != nil && now.Before(e.expires) {
			return e.tree, nil
		}
	}
	t, err := parkAreas(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	s.areas.Store(parkID, cachedTree{tree: t, expires: now.Add(parkCacheTTL)})
	return t, nil
}

type cachedTree struct {
	tree    areaTree
	expires time.Time
}

// parkCacheTTL bounds how stale a park or its areas may be on the request path.
// This node forgets a park it changes at once, and another node's change is seen
// within the TTL. Requests check the catalogue only to refuse
// what could never be approved: approval checks it again, read fresh.
const parkCacheTTL = time.Second

type cachedParkEntry struct {
	park    *Park
	expires time.Time
}

// cachedPark returns a park for the request path, read at most parkCacheTTL ago.
// The park is shared: callers must not change it.
func (s *Service) cachedPark(ctx context.Context, parkID string) (*Park, error) {
	now := time.Now()
	if v, ok := s.parks.Load(parkID); ok {
		if e := v.(cachedParkEntry); now.Before(e.expires) {
			return e.park, nil
		}
	}
	park, err := getPark(ctx, s.st.prepared(nil), parkID)
	if err != nil {
		return nil, err
	}
	s.parks.Store(parkID, cachedParkEntry{park: park, expires: now.Add(parkCacheTTL)})
	return park, nil
}
