package parks

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/kvarter/kvarter/plugins/parks/schedule"
	"github.com/kvarter/kvarter/sdk"
)

// Parks and their areas: creating them, reading them, and the short-lived
// caches the request path reads them from.

// ParkInput creates a park.
type ParkInput struct {
	Name            string         `json:"name" max:"200"`
	NeighbourhoodID string         `json:"neighbourhood_id" max:"64"`
	TimeZone        string         `json:"time_zone" max:"64"`
	SupportItems    map[string]int `json:"support_items" min:"0" max:"100000"`
}

// CreatePark creates a park in a neighbourhood; it needs parks.park.manage
// there (city admins hold it everywhere).
func (s *Service) CreatePark(ctx context.Context, pr sdk.Principal, in ParkInput) (*Park, error) {
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "" || utf8.RuneCountInString(in.Name) > maxTitle:
		return nil, sdk.InvalidField("name", fmt.Sprintf("required, at most %d characters", maxTitle))
	case in.NeighbourhoodID == "":
		return nil, sdk.InvalidField("neighbourhood_id", "required")
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
		return nil, &sdk.Error{Code: sdk.CodeInvalid, Message: "neighbourhood_id: no such neighbourhood",
			Fields: map[string]string{"neighbourhood_id": "no such neighbourhood", "rule": RuleNeighbourhood}}
	}
	if in.TimeZone == "" {
		in.TimeZone = s.cityTZ
	}
	if _, err := sdk.LoadTimeZone(in.TimeZone); err != nil {
		return nil, &sdk.Error{Code: sdk.CodeInvalid, Message: "time_zone: must be an IANA time zone such as Europe/Helsinki (not Local)",
			Fields: map[string]string{"time_zone": "must be an IANA time zone such as Europe/Helsinki (not Local)", "rule": RuleTimeZone}}
	}
	items := in.SupportItems
	if items == nil {
		items = s.settings.DefaultSupport
	}
	if err := checkCatalogue(items); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	p := &Park{ID: newID(), Name: in.Name, NeighbourhoodID: in.NeighbourhoodID, TimeZone: in.TimeZone,
		SupportItems: items, CreatedAt: now, UpdatedAt: now}
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
			return sdk.InvalidField("support_items", fmt.Sprintf("%q: want a name and a quantity of at least 0", name))
		}
	}
	return nil
}

// ListParks lists parks, optionally of one neighbourhood.
func (s *Service) ListParks(ctx context.Context, neighbourhoodID string) ([]*Park, error) {
	return listParks(ctx, s.st.db, neighbourhoodID)
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
	Name         string    `json:"name" max:"200"`
	ParentID     string    `json:"parent_id" max:"64"`
	Capacity     int       `json:"capacity" min:"1" max:"1000000"`
	OpeningHours *HoursDoc `json:"opening_hours"`
	Rules        RulesDoc  `json:"rules"`
}

// CreateArea adds an area to a park, under parent when given.
func (s *Service) CreateArea(ctx context.Context, pr sdk.Principal, parkID string, in AreaInput) (*Area, error) {
	park, err := getPark(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	if err := s.require(ctx, pr, PermAreaManage, parkDomain(park), RuleParkManager, "Only a manager of "+park.Name+" can do this."); err != nil {
		return nil, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || utf8.RuneCountInString(in.Name) > maxTitle {
		return nil, sdk.InvalidField("name", fmt.Sprintf("required, at most %d characters", maxTitle))
	}
	if in.Capacity < 1 {
		return nil, sdk.InvalidField("capacity", "must be at least 1")
	}
	hours := alwaysOpen()
	if in.OpeningHours != nil {
		hours = *in.OpeningHours
	}
	a := &Area{ID: newID(), ParkID: parkID, ParentID: in.ParentID, Name: in.Name, Capacity: in.Capacity,
		OpeningHours: hours, Rules: in.Rules, CreatedAt: s.now().UTC()}
	if a.hours, err = hours.toSchedule(); err != nil {
		return nil, err
	}
	a.rules = in.Rules.toSchedule()
	if err := schedule.ValidateConfig(a.hours, a.rules); err != nil {
		return nil, &sdk.Error{Code: sdk.CodeInvalid, Message: err.Error(), Fields: map[string]string{"rule": RuleAreaConfig}}
	}
	err = s.st.inTx(ctx, func(tx *sqlx.Tx) error {
		if in.ParentID != "" {
			tree, err := parkAreas(ctx, tx, parkID)
			if err != nil {
				return err
			}
			if tree[in.ParentID] == nil {
				return &sdk.Error{Code: sdk.CodeInvalid, Message: "parent_id: no such area in this park",
					Fields: map[string]string{"parent_id": "no such area in this park", "rule": RuleAreaParent}}
			}
		}
		return insertArea(ctx, tx, a)
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, pr, "parks.area.create", parkDomain(park), a.ID, map[string]any{"park_id": parkID, "name": a.Name})
	return a, nil
}

// ListAreas lists a park's areas, parents before children.
func (s *Service) ListAreas(ctx context.Context, parkID string) ([]*Area, error) {
	if _, err := getPark(ctx, s.st.db, parkID); err != nil {
		return nil, err
	}
	tree, err := parkAreas(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	out := make([]*Area, 0, len(tree))
	for _, a := range tree {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *Area) int {
		return cmpInts(len(tree.ancestors(a.ID)), len(tree.ancestors(b.ID)), a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

func cmpInts(a, b int, then ...int) int {
	if a != b {
		if a < b {
			return -1
		}
		return 1
	}
	for _, t := range then {
		if t != 0 {
			return t
		}
	}
	return 0
}

// cachedAreas returns a park's area tree from the cache when it holds
// areaID, else loads it afresh. Areas are never changed or deleted once
// created and their parents are fixed, so a cached area, its rules and its
// ancestors are always right — on every node; what a cached tree may lack
// is areas created since (elsewhere), which a miss loads. Callers use the
// area and its ancestors only (blocking rows of descendants sit on the
// area itself); decisions load the whole tree inside their transaction.
func (s *Service) cachedAreas(ctx context.Context, parkID, areaID string) (areaTree, error) {
	if v, ok := s.areas.Load(parkID); ok {
		if t := v.(areaTree); t[areaID] != nil {
			return t, nil
		}
	}
	t, err := parkAreas(ctx, s.st.db, parkID)
	if err != nil {
		return nil, err
	}
	s.areas.Store(parkID, t)
	return t, nil
}

// parkCacheTTL bounds how stale a park may be on the request path. Only its support
// catalogue ever changes; this node forgets a park it changes at once, and another
// node's change is seen within the TTL. Requests check the catalogue only to refuse
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
