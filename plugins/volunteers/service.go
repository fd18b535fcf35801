package volunteers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/plugins/volunteers/match"
	"github.com/kvarter/kvarter/plugins/volunteers/roster"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Config tunes the service; zero fields take the defaults of the manifest's settings.
type Config struct {
	// Location is the city's time zone: ages, availability and ISO weeks are local.
	Location *time.Location
	// Languages are the city's languages, preferred first, for skill names.
	Languages []string
	// HistoryWindow is how far back hours (fairness) and no-shows (reliability) count.
	HistoryWindow time.Duration
	// IndexTTL bounds how long a cached match index is used even when nothing changed,
	// because "recent hours" move with the clock.
	IndexTTL time.Duration
	// InlineRebuildProfiles: an out-of-date match index of fewer profiles than this is
	// rebuilt by the request that finds it (cheap: about 50 µs a profile); a larger one
	// is rebuilt by one background goroutine while requests keep using the previous
	// index. Default 2,000. A count rather than a measured build time, so the choice
	// does not depend on how loaded the machine happens to be.
	InlineRebuildProfiles int
	// RosterCandidates is how many of the best-ranked volunteers per shift the roster
	// considers; the roster is optimal among them.
	RosterCandidates int
	// RosterMaxNodes bounds the roster search.
	RosterMaxNodes int
}

// Service is the volunteers domain: every handler calls one of its methods. It owns the
// policy (who may do what) and transactions; SQL stays in storage.
type Service struct {
	st     storage
	host   sdk.Host
	cfg    Config
	now    func() time.Time
	logger *slog.Logger

	buildMu sync.Mutex // held while building an index, so one build runs at a time
	mu      sync.Mutex // guards cache and rebuilding
	cache   *indexCache
	// rebuilding is set while the background goroutine rebuilds the index.
	rebuilding bool
	// bg is cancelled by Close; bgDone tracks the background rebuild.
	bg       context.Context
	bgCancel context.CancelFunc
	bgDone   sync.WaitGroup
}

type indexCache struct {
	version  int64
	built    time.Time
	ix       *match.Index
	profiles map[string]*match.Profile
}

// NewService returns a service over db. now is the clock; host answers questions about
// people, organisations and permissions.
func NewService(db *store.DB, host sdk.Host, cfg Config, now func() time.Time, logger *slog.Logger) *Service {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.HistoryWindow <= 0 {
		cfg.HistoryWindow = 90 * 24 * time.Hour
	}
	if cfg.IndexTTL <= 0 {
		cfg.IndexTTL = 10 * time.Minute
	}
	if cfg.RosterCandidates <= 0 {
		cfg.RosterCandidates = 200
	}
	if cfg.InlineRebuildProfiles <= 0 {
		cfg.InlineRebuildProfiles = 2000
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	bg, cancel := context.WithCancel(context.Background())
	return &Service{st: newStorage(db), host: host, cfg: cfg, now: now, logger: logger, bg: bg, bgCancel: cancel}
}

// Warm starts building the match index in the background, so that the first matches
// request of a large city does not pay the whole build.
func (s *Service) Warm() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache != nil || s.rebuilding || s.bg.Err() != nil {
		return
	}
	s.rebuilding = true
	s.bgDone.Add(1)
	go s.rebuildInBackground()
}

// WaitRebuild waits for a background index rebuild, if one runs.
func (s *Service) WaitRebuild() { s.bgDone.Wait() }

// Close stops a background index rebuild and waits for it.
func (s *Service) Close() {
	s.mu.Lock() // no background rebuild starts after this
	s.bgCancel()
	s.mu.Unlock()
	s.bgDone.Wait()
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// now truncated to the second, the precision times are stored with.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Second) }

func requireUser(p sdk.Principal) error {
	if !p.Authenticated() {
		return sdk.Errorf(sdk.CodeUnauthenticated, "sign in to use volunteering")
	}
	return nil
}

// publish tells the rest of the city what happened. It runs after commit: the change is
// made whether or not the outbox call succeeds, so a failure is logged, not returned.
func (s *Service) publish(ctx context.Context, typ string, payload map[string]any) {
	if s.host == nil {
		return
	}
	if err := s.host.Publish(ctx, sdk.Event{Type: typ, Payload: []byte(jsonText(payload))}); err != nil {
		s.logger.ErrorContext(ctx, "publish event", "type", typ, "error", err)
	}
}

func (s *Service) audit(ctx context.Context, actor, action, domain, target string, detail map[string]any) {
	if s.host == nil {
		return
	}
	if err := s.host.Audit(ctx, sdk.AuditEntry{ActorID: actor, Action: action, Domain: domain, Target: target, Detail: detail}); err != nil {
		s.logger.ErrorContext(ctx, "audit", "action", action, "error", err)
	}
}

// Skills.

// Skills lists the catalogue.
func (s *Service) Skills(ctx context.Context) ([]Skill, error) { return s.st.skills(ctx) }

// PutSkill adds or renames a catalogue skill; the route is limited to staff holding
// PermSkillManage in the city.
func (s *Service) PutSkill(ctx context.Context, p sdk.Principal, sk Skill) (Skill, error) {
	f := fields{}
	if !validSlug(sk.ID) {
		f.add("id", "must be 1-64 characters of a-z, 0-9, _ and -")
	}
	if len(sk.Names) == 0 {
		f.add("names", "give the skill's name in at least one language")
	}
	for lang, name := range sk.Names {
		if strings.TrimSpace(name) == "" {
			f.add("names."+lang, "must not be empty")
		}
	}
	if err := f.err("invalid skill"); err != nil {
		return Skill{}, err
	}
	if err := s.st.putSkill(ctx, sk, s.clock()); err != nil {
		return Skill{}, err
	}
	s.audit(ctx, p.UserID, "volunteers.skill.put", sdk.DomainCity, sk.ID, nil)
	return sk, nil
}

func validSlug(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// unknownSkills returns the IDs not in the catalogue.
func (s *Service) unknownSkills(ctx context.Context, ids ...[]string) ([]string, error) {
	cat, err := s.st.skills(ctx)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, sk := range cat {
		known[sk.ID] = true
	}
	var bad []string
	for _, l := range ids {
		for _, id := range l {
			if !known[id] {
				bad = append(bad, id)
			}
		}
	}
	return bad, nil
}

// labels returns skill names in the reader's language, then the city's, then any.
func (s *Service) labels(ctx context.Context, locale string) (match.Labels, error) {
	cat, err := s.st.skills(ctx)
	if err != nil {
		return match.Labels{}, err
	}
	langs := append([]string{locale}, s.cfg.Languages...)
	lb := match.Labels{Skills: map[string]string{}}
	for _, sk := range cat {
		name := ""
		for _, l := range langs {
			if l == "" {
				continue
			}
			if n, ok := sk.Names[l]; ok {
				name = n
				break
			}
			if base, _, ok := strings.Cut(l, "-"); ok && sk.Names[base] != "" {
				name = sk.Names[base]
				break
			}
		}
		if name == "" {
			keys := make([]string, 0, len(sk.Names))
			for k := range sk.Names {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if len(keys) > 0 {
				name = sk.Names[keys[0]]
			}
		}
		lb.Skills[sk.ID] = name
	}
	return lb, nil
}

// Profiles.

// Profile returns the caller's own profile.
func (s *Service) Profile(ctx context.Context, p sdk.Principal) (Profile, error) {
	if err := requireUser(p); err != nil {
		return Profile{}, err
	}
	return s.st.profile(ctx, s.st.db, p.UserID)
}

// PutProfile creates or replaces the caller's profile; the background check is kept.
func (s *Service) PutProfile(ctx context.Context, p sdk.Principal, in ProfileInput) (Profile, error) {
	if err := requireUser(p); err != nil {
		return Profile{}, err
	}
	now := s.clock()
	f := fields{}
	birth, err := parseDate(in.BirthDate)
	if err != nil {
		f.add("birth_date", err.Error())
	} else if today := match.DateOf(now, s.cfg.Location); birth.String() > today.String() {
		f.add("birth_date", "must not be in the future")
	}
	for i, w := range in.Availability {
		if _, err := parseWindow(w); err != nil {
			f.add(fmt.Sprintf("availability[%d]", i), err.Error())
		}
	}
	for i, d := range in.UnavailableDates {
		if _, err := parseDate(d); err != nil {
			f.add(fmt.Sprintf("unavailable_dates[%d]", i), err.Error())
		}
	}
	if in.MaxHoursPerWeek < 0 || in.MaxHoursPerWeek > 168 {
		f.add("max_hours_per_week", "must be between 0 (no limit) and 168")
	}
	bad, err := s.unknownSkills(ctx, in.Skills)
	if err != nil {
		return Profile{}, err
	}
	if len(bad) > 0 {
		f.add("skills", "unknown skills: "+strings.Join(bad, ", "))
	}
	if err := s.checkNeighbourhoods(ctx, f, "neighbourhoods", in.Neighbourhoods); err != nil {
		return Profile{}, err
	}
	if err := f.err("invalid volunteer profile"); err != nil {
		return Profile{}, err
	}
	prof := Profile{
		UserID: p.UserID, Skills: dedupe(in.Skills), Tags: dedupe(in.Tags), Languages: dedupe(in.Languages),
		Availability: nonNil(in.Availability), UnavailableDates: dedupe(in.UnavailableDates),
		Neighbourhoods: dedupe(in.Neighbourhoods), MaxHoursPerWeek: in.MaxHoursPerWeek, BirthDate: in.BirthDate,
		CreatedAt: now, UpdatedAt: now,
	}
	err = s.st.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.st.upsertProfile(ctx, tx, prof); err != nil {
			return err
		}
		return s.st.bumpVersion(ctx, tx)
	})
	if err != nil {
		return Profile{}, err
	}
	return s.st.profile(ctx, s.st.db, p.UserID)
}

// DeleteProfile opts the caller out: the profile and every application go.
func (s *Service) DeleteProfile(ctx context.Context, p sdk.Principal) error {
	if err := requireUser(p); err != nil {
		return err
	}
	if _, err := s.st.profile(ctx, s.st.db, p.UserID); err != nil {
		return err
	}
	return s.erase(ctx, p.UserID)
}

// SetBackgroundCheck records a check; only city staff reach it (route permission in the
// city domain).
func (s *Service) SetBackgroundCheck(ctx context.Context, p sdk.Principal, userID string, c BackgroundCheck) (Profile, error) {
	f := fields{}
	if _, ok := checkStatus[c.Status]; !ok {
		f.add("status", "must be one of none, pending, cleared, rejected")
	}
	if c.Expires != "" {
		if _, err := parseDate(c.Expires); err != nil {
			f.add("expires", err.Error())
		}
	}
	if err := f.err("invalid background check"); err != nil {
		return Profile{}, err
	}
	err := s.st.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.st.setCheck(ctx, tx, userID, c, s.clock()); err != nil {
			return err
		}
		return s.st.bumpVersion(ctx, tx)
	})
	if err != nil {
		return Profile{}, err
	}
	s.audit(ctx, p.UserID, "volunteers.background_check.set", sdk.DomainCity, userID,
		map[string]any{"status": c.Status, "expires": c.Expires})
	return s.st.profile(ctx, s.st.db, userID)
}

func (s *Service) checkNeighbourhoods(ctx context.Context, f fields, field string, ids []string) error {
	ids = dedupe(ids)
	if len(ids) == 0 || s.host == nil {
		return nil
	}
	found, err := s.host.Neighbourhoods(ctx, ids)
	if err != nil {
		return fmt.Errorf("look up neighbourhoods: %w", err)
	}
	ok := map[string]bool{}
	for _, n := range found {
		ok[n.ID] = !n.Archived
	}
	var bad []string
	for _, id := range ids {
		if !ok[id] {
			bad = append(bad, id)
		}
	}
	if len(bad) > 0 {
		f.add(field, "unknown neighbourhoods: "+strings.Join(bad, ", "))
	}
	return nil
}

func dedupe(l []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, s := range l {
		s = strings.TrimSpace(s)
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func nonNil[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

// Opportunities.

// canOrganise reports whether p may manage opportunities of organisation orgID ("" is the
// city): the permission in that organisation's domain, which city staff hold everywhere,
// and the organisation must be verified.
func (s *Service) canOrganise(ctx context.Context, p sdk.Principal, orgID string) error {
	if err := requireUser(p); err != nil {
		return err
	}
	domain := sdk.DomainCity
	if orgID != "" {
		domain = "org:" + orgID
	}
	ok, err := s.host.Can(ctx, p.UserID, PermOpportunityManage, domain)
	if err != nil {
		return fmt.Errorf("check permission: %w", err)
	}
	if !ok {
		if orgID == "" {
			return sdk.Errorf(sdk.CodeForbidden, "only city staff may post opportunities for the city")
		}
		return sdk.Errorf(sdk.CodeForbidden, "only representatives of organisation %s may organise its opportunities", orgID)
	}
	if orgID == "" {
		return nil
	}
	orgs, err := s.host.Organisations(ctx, []string{orgID})
	if err != nil {
		return fmt.Errorf("look up organisation: %w", err)
	}
	if len(orgs) == 0 {
		return sdk.Errorf(sdk.CodeNotFound, "organisation %s not found", orgID)
	}
	if !orgs[0].Verified {
		return sdk.Errorf(sdk.CodeForbidden, "organisation %s is not verified; only verified organisations post opportunities", orgID)
	}
	return nil
}

// organiser loads an opportunity and checks that p organises it.
func (s *Service) organiser(ctx context.Context, p sdk.Principal, oppID string) (Opportunity, error) {
	o, err := s.st.opportunity(ctx, s.st.db, oppID)
	if err != nil {
		return Opportunity{}, err
	}
	if err := s.canOrganise(ctx, p, o.OrganisationID); err != nil {
		return Opportunity{}, err
	}
	return o, nil
}

// CreateOpportunity posts a draft opportunity with its shifts.
func (s *Service) CreateOpportunity(ctx context.Context, p sdk.Principal, in OpportunityInput) (Opportunity, error) {
	if err := requireUser(p); err != nil {
		return Opportunity{}, err
	}
	now := s.clock()
	f := fields{}
	if strings.TrimSpace(in.Title) == "" {
		f.add("title", "must not be empty")
	}
	if in.MinAge < 0 || in.MinAge > 120 {
		f.add("min_age", "must be between 0 and 120")
	}
	if len(in.Shifts) == 0 {
		f.add("shifts", "give at least one shift")
	}
	shifts := make([]Shift, 0, len(in.Shifts))
	for i, si := range in.Shifts {
		key := fmt.Sprintf("shifts[%d]", i)
		start, err1 := time.Parse(time.RFC3339, si.Start)
		end, err2 := time.Parse(time.RFC3339, si.End)
		switch {
		case err1 != nil:
			f.add(key+".start", "must be an RFC 3339 time")
		case err2 != nil:
			f.add(key+".end", "must be an RFC 3339 time")
		case sdk.CheckTime(key+".start", start) != nil:
			f.add(key+".start", "must lie between 1970-01-01 and 2199-12-31")
		case sdk.CheckTime(key+".end", end) != nil:
			f.add(key+".end", "must lie between 1970-01-01 and 2199-12-31")
		case !end.After(start):
			f.add(key+".end", "shift must end after it starts")
		case si.Capacity < 0:
			f.add(key+".capacity", "capacity must not be below zero")
		case !start.After(now):
			f.add(key+".start", "shift must start in the future")
		}
		shifts = append(shifts, Shift{ID: newID(), Start: start.UTC().Truncate(time.Second),
			End: end.UTC().Truncate(time.Second), Capacity: si.Capacity})
	}
	bad, err := s.unknownSkills(ctx, in.RequiredSkills, in.PreferredSkills)
	if err != nil {
		return Opportunity{}, err
	}
	if len(bad) > 0 {
		f.add("required_skills", "unknown skills: "+strings.Join(bad, ", "))
	}
	if in.NeighbourhoodID != "" {
		if err := s.checkNeighbourhoods(ctx, f, "neighbourhood_id", []string{in.NeighbourhoodID}); err != nil {
			return Opportunity{}, err
		}
	}
	if err := f.err("invalid opportunity"); err != nil {
		return Opportunity{}, err
	}
	if err := s.canOrganise(ctx, p, in.OrganisationID); err != nil {
		return Opportunity{}, err
	}
	o := Opportunity{
		ID: newID(), OrganisationID: in.OrganisationID, Title: strings.TrimSpace(in.Title), Description: in.Description,
		NeighbourhoodID: in.NeighbourhoodID, Place: in.Place, RequiredSkills: dedupe(in.RequiredSkills),
		PreferredSkills: dedupe(in.PreferredSkills), Languages: dedupe(in.Languages), MinAge: in.MinAge,
		NeedsBackgroundCheck: in.NeedsBackgroundCheck, AutoAccept: in.AutoAccept, State: StateDraft,
		Shifts: shifts, CreatedAt: now, UpdatedAt: now, createdBy: p.UserID,
	}
	err = s.st.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := s.st.insertOpportunity(ctx, tx, o)
		return err
	})
	if err != nil {
		return Opportunity{}, err
	}
	return s.st.opportunity(ctx, s.st.db, o.ID)
}

// Opportunity returns one opportunity: published ones to anyone signed in, the others
// only to their organisers.
func (s *Service) Opportunity(ctx context.Context, p sdk.Principal, id string) (Opportunity, error) {
	if err := requireUser(p); err != nil {
		return Opportunity{}, err
	}
	o, err := s.st.opportunity(ctx, s.st.db, id)
	if err != nil {
		return Opportunity{}, err
	}
	if o.State != StatePublished {
		if err := s.canOrganise(ctx, p, o.OrganisationID); err != nil {
			if errorCode(err) == sdk.CodeForbidden {
				return Opportunity{}, sdk.Errorf(sdk.CodeNotFound, "opportunity %s not found", id)
			}
			return Opportunity{}, err
		}
	}
	return o, nil
}

// Page is one page of a list.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// Opportunities lists published opportunities and, for organisers, those of their
// organisations in every state, in creation order.
func (s *Service) Opportunities(ctx context.Context, p sdk.Principal, cursor string, limit int) (Page[Opportunity], error) {
	if err := requireUser(p); err != nil {
		return Page[Opportunity]{}, err
	}
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	var orgs []string
	for _, m := range p.Organisations {
		if m.Role == "representative" && m.Verified {
			orgs = append(orgs, m.OrganisationID)
		}
	}
	if s.host != nil {
		if ok, err := s.host.Can(ctx, p.UserID, PermOpportunityManage, sdk.DomainCity); err != nil {
			return Page[Opportunity]{}, fmt.Errorf("check permission: %w", err)
		} else if ok {
			orgs = append(orgs, "")
		}
	}
	items, err := s.st.listOpportunities(ctx, []string{StatePublished}, orgs, cursor, limit+1)
	if err != nil {
		return Page[Opportunity]{}, err
	}
	page := Page[Opportunity]{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.NextCursor = items[limit-1].ID
	}
	return page, nil
}

// transitions are the state changes organisers may make.
var transitions = map[string][]string{
	StatePublished: {StateDraft},
	StateClosed:    {StatePublished},
	StateCancelled: {StateDraft, StatePublished, StateClosed},
}

// SetState publishes, closes or cancels an opportunity.
func (s *Service) SetState(ctx context.Context, p sdk.Principal, id, to string) (Opportunity, error) {
	o, err := s.organiser(ctx, p, id)
	if err != nil {
		return Opportunity{}, err
	}
	if !slices.Contains(transitions[to], o.State) {
		return Opportunity{}, sdk.Errorf(sdk.CodeConflict, "an opportunity that is %s cannot become %s", o.State, to)
	}
	var ok bool
	err = s.st.inTx(ctx, func(tx *sqlx.Tx) error {
		ok, err = s.st.setState(ctx, tx, id, o.State, to, s.clock())
		if err != nil || !ok {
			return err
		}
		if to == StateCancelled {
			// Cancelled shifts no longer commit anyone's time.
			return s.st.bumpVersion(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return Opportunity{}, err
	}
	if !ok {
		return Opportunity{}, sdk.Errorf(sdk.CodeConflict, "opportunity %s changed state meanwhile; reload and retry", id)
	}
	s.publish(ctx, "volunteers.opportunity."+to, map[string]any{"opportunity_id": id, "organisation_id": o.OrganisationID})
	return s.st.opportunity(ctx, s.st.db, id)
}

func findShift(o Opportunity, shiftID string) (Shift, error) {
	for _, sh := range o.Shifts {
		if sh.ID == shiftID {
			return sh, nil
		}
	}
	return Shift{}, sdk.Errorf(sdk.CodeNotFound, "shift %s not found in opportunity %s", shiftID, o.ID)
}

// Matching.

// index returns the match index over every profile. The index is out of date when the
// stored version moved (any node changed a profile or a commitment) or the TTL ran out
// ("recent hours" move with the clock). A small out-of-date index (under
// Config.InlineRebuildProfiles) is rebuilt by the request; a large one is rebuilt by
// one background goroutine while requests keep getting the previous index, so a write
// never makes the next matches request wait seconds (stale-while-revalidate).
//
// Staleness is bounded: a rebuild reads everything committed before it starts, and the
// first request after a rebuild that missed a write starts the next one, so a ranking
// reflects every write older than about two build times (≈10 s for 100,000 profiles on
// a 2-vCPU machine). Only the ranking can be stale; the rules that guard bookings are
// checked against the database in the booking transaction (see eligible and take).
func (s *Service) index(ctx context.Context) (*indexCache, error) {
	v, err := s.st.version(ctx)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	s.mu.Lock()
	c := s.cache
	if c != nil && s.fresh(c, v, now) {
		s.mu.Unlock()
		return c, nil
	}
	if c != nil && c.ix.Len() >= s.cfg.InlineRebuildProfiles && s.bg.Err() == nil {
		if !s.rebuilding {
			s.rebuilding = true
			s.bgDone.Add(1)
			go s.rebuildInBackground()
		}
		s.mu.Unlock()
		return c, nil
	}
	s.mu.Unlock()

	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	s.mu.Lock()
	c = s.cache
	s.mu.Unlock()
	if c != nil && s.fresh(c, v, now) { // built by another request meanwhile
		return c, nil
	}
	return s.rebuild(ctx)
}

func (s *Service) fresh(c *indexCache, v int64, now time.Time) bool {
	return c.version == v && now.Sub(c.built) < s.cfg.IndexTTL && !now.Before(c.built)
}

// rebuildInBackground rebuilds the index once, detached from any request.
func (s *Service) rebuildInBackground() {
	defer s.bgDone.Done()
	defer func() {
		s.mu.Lock()
		s.rebuilding = false
		s.mu.Unlock()
	}()
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	if _, err := s.rebuild(s.bg); err != nil && s.bg.Err() == nil {
		s.logger.Error("rebuild match index", "error", err)
	}
}

// rebuild loads every profile and held place and builds a new index; the caller holds
// buildMu. The version is read first, so a write racing the load only causes one more
// rebuild later, never a missed one.
func (s *Service) rebuild(ctx context.Context) (*indexCache, error) {
	t0 := time.Now()
	v, err := s.st.version(ctx)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	rows, err := s.st.allProfiles(ctx)
	if err != nil {
		return nil, err
	}
	held, err := s.st.heldPlaces(ctx)
	if err != nil {
		return nil, err
	}
	profiles := make([]match.Profile, len(rows))
	byID := make(map[string]int, len(rows))
	for i, r := range rows {
		profiles[i] = matchProfile(r.profile())
		byID[r.UserID] = i
	}
	since := now.Add(-s.cfg.HistoryWindow)
	for _, h := range held {
		i, ok := byID[h.VolunteerID]
		if !ok {
			continue
		}
		mp := &profiles[i]
		start, end := parseTS(h.StartsAt), parseTS(h.EndsAt)
		mp.Commitments = append(mp.Commitments, match.Interval{Start: start, End: end})
		if start.Before(since) {
			continue
		}
		switch h.Status {
		case StatusAttended:
			mp.RecentHours += time.Duration(h.Minutes) * time.Minute
		case StatusNoShow:
			mp.NoShows++
		}
	}
	ix, err := match.NewIndex(s.cfg.Location, profiles)
	if err != nil {
		return nil, fmt.Errorf("build match index: %w", err)
	}
	c := &indexCache{version: v, built: now, ix: ix, profiles: make(map[string]*match.Profile, len(profiles))}
	for i := range profiles {
		c.profiles[profiles[i].ID] = &profiles[i]
	}
	s.logger.Debug("match index built", "profiles", len(profiles), "took", time.Since(t0))
	s.mu.Lock()
	if s.cache == nil || s.cache.version <= c.version {
		s.cache = c
	}
	s.mu.Unlock()
	return c, nil
}

// Matches ranks the volunteers eligible for one shift, best first, with reasons. Only
// IDs, scores and reasons are shown: the profile itself is visible to the organiser only
// once the volunteer applied or was invited.
func (s *Service) Matches(ctx context.Context, p sdk.Principal, oppID, shiftID string, limit int) ([]MatchCandidate, error) {
	o, err := s.organiser(ctx, p, oppID)
	if err != nil {
		return nil, err
	}
	if _, err := findShift(o, shiftID); err != nil {
		return nil, err
	}
	return s.rank(ctx, p.Locale, o, shiftID, limit)
}

func (s *Service) rank(ctx context.Context, locale string, o Opportunity, shiftID string, limit int) ([]MatchCandidate, error) {
	c, err := s.index(ctx)
	if err != nil {
		return nil, err
	}
	lb, err := s.labels(ctx, locale)
	if err != nil {
		return nil, err
	}
	mo := matchOpportunity(o)
	got, err := c.ix.Rank(&mo, shiftID, match.Options{Labels: lb, Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("rank: %w", err)
	}
	out := make([]MatchCandidate, len(got))
	for i, g := range got {
		out[i] = MatchCandidate{VolunteerID: g.VolunteerID, Score: g.Score, Reasons: nonNil(g.Reasons)}
	}
	return out, nil
}

// Recommendations lists open shifts the caller may take, best first, leaving out shifts
// they already signed up for.
func (s *Service) Recommendations(ctx context.Context, p sdk.Principal, limit int) ([]Recommendation, error) {
	if err := requireUser(p); err != nil {
		return nil, err
	}
	if _, err := s.st.profile(ctx, s.st.db, p.UserID); err != nil {
		return nil, err
	}
	c, err := s.index(ctx)
	if err != nil {
		return nil, err
	}
	opps, err := s.st.openOpportunities(ctx, s.clock())
	if err != nil {
		return nil, err
	}
	mine, err := s.st.applicationsBy(ctx, s.st.db, p.UserID)
	if err != nil {
		return nil, err
	}
	applied := map[string]bool{}
	for _, a := range mine {
		applied[a.ShiftID] = true
	}
	byID := map[string]Opportunity{}
	mopps := make([]match.Opportunity, 0, len(opps))
	for _, o := range opps {
		byID[o.ID] = o
		mo := matchOpportunity(o)
		mo.Shifts = slices.DeleteFunc(mo.Shifts, func(sh match.Shift) bool { return applied[sh.ID] })
		mopps = append(mopps, mo)
	}
	lb, err := s.labels(ctx, p.Locale)
	if err != nil {
		return nil, err
	}
	got, err := c.ix.Recommend(p.UserID, mopps, match.Options{Labels: lb, Limit: limit, Now: s.clock()})
	if errors.Is(err, match.ErrUnknownVolunteer) {
		// The profile was created after the cached index was read.
		return []Recommendation{}, nil
	} else if err != nil {
		return nil, fmt.Errorf("recommend: %w", err)
	}
	out := make([]Recommendation, len(got))
	for i, g := range got {
		o := byID[g.OpportunityID]
		sh, _ := findShift(o, g.ShiftID)
		out[i] = Recommendation{OpportunityID: o.ID, Title: o.Title, ShiftID: sh.ID, Start: sh.Start, End: sh.End,
			Score: g.Score, Reasons: nonNil(g.Reasons)}
	}
	return out, nil
}

// Roster proposes who takes which of the opportunity's open shifts, maximising the total
// score under capacities, weekly hours and overlaps. It books nothing.
func (s *Service) Roster(ctx context.Context, p sdk.Principal, oppID string) (Roster, error) {
	o, err := s.organiser(ctx, p, oppID)
	if err != nil {
		return Roster{}, err
	}
	as, res, err := s.propose(ctx, []Opportunity{o}, func(Shift) bool { return true })
	if err != nil {
		return Roster{}, err
	}
	return Roster{OpportunityID: oppID, Assignments: as, TotalScore: res.Total, Optimal: res.Optimal,
		Canonical: res.Canonical}, nil
}

// DayRoster proposes one roster for every published opportunity the caller organises
// with a shift starting on date (YYYY-MM-DD, the city's local date): city staff plan
// the whole city, organisation representatives their verified organisations' work;
// orgID narrows it to one organisation. The shifts are solved together, so nobody is
// proposed for two overlapping shifts of different opportunities, and weekly hour limits
// hold across them. It books nothing.
func (s *Service) DayRoster(ctx context.Context, p sdk.Principal, date, orgID string) (DayRoster, error) {
	if err := requireUser(p); err != nil {
		return DayRoster{}, err
	}
	d, err := parseDate(date)
	if err != nil {
		return DayRoster{}, invalid("date", err.Error(), "date must be a date YYYY-MM-DD")
	}
	from := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, s.cfg.Location)
	to := from.AddDate(0, 0, 1) // a day is 23 or 25 hours when the clocks change
	orgs, all, err := s.organisedBy(ctx, p, orgID)
	if err != nil {
		return DayRoster{}, err
	}
	opps, err := s.st.opportunitiesStarting(ctx, from, to, orgs, all)
	if err != nil {
		return DayRoster{}, err
	}
	out := DayRoster{Date: date, OrganisationID: orgID, OpportunityIDs: []string{}}
	for _, o := range opps {
		out.OpportunityIDs = append(out.OpportunityIDs, o.ID)
	}
	as, res, err := s.propose(ctx, opps, func(sh Shift) bool { return !sh.Start.Before(from) && sh.Start.Before(to) })
	if err != nil {
		return DayRoster{}, err
	}
	out.Assignments, out.TotalScore, out.Optimal, out.Canonical = as, res.Total, res.Optimal, res.Canonical
	return out, nil
}

// organisedBy returns the organisations whose opportunities p organises: orgID alone when
// given (checked), every organisation and the city (all) for city staff, otherwise the
// verified organisations p represents. Someone who organises nothing is forbidden.
func (s *Service) organisedBy(ctx context.Context, p sdk.Principal, orgID string) (orgs []string, all bool, err error) {
	if orgID != "" {
		if err := s.canOrganise(ctx, p, orgID); err != nil {
			return nil, false, err
		}
		return []string{orgID}, false, nil
	}
	if err := s.canOrganise(ctx, p, ""); err == nil {
		return nil, true, nil
	} else if errorCode(err) != sdk.CodeForbidden {
		return nil, false, err
	}
	for _, m := range p.Organisations {
		if m.Role != "representative" || slices.Contains(orgs, m.OrganisationID) {
			continue
		}
		if err := s.canOrganise(ctx, p, m.OrganisationID); err == nil {
			orgs = append(orgs, m.OrganisationID)
		} else if errorCode(err) != sdk.CodeForbidden && errorCode(err) != sdk.CodeNotFound {
			return nil, false, err
		}
	}
	if len(orgs) == 0 {
		return nil, false, sdk.Errorf(sdk.CodeForbidden, "only city staff and representatives of verified organisations may plan a day's rosters")
	}
	return orgs, false, nil
}

// propose solves one roster over the open shifts of opps that keep admits: the
// best-ranked candidates per shift, less those who declined, withdrew or were declined
// for it, with every candidate's commitments and weekly hours, in one roster.Solve.
// Assignments are sorted by opportunity, shift and volunteer ID.
func (s *Service) propose(ctx context.Context, opps []Opportunity, keep func(Shift) bool) ([]RosterAssignment, roster.Result, error) {
	c, err := s.index(ctx)
	if err != nil {
		return nil, roster.Result{}, err
	}
	now := s.clock()
	prob := roster.Problem{Location: s.cfg.Location, MaxNodes: s.cfg.RosterMaxNodes}
	oppOf := map[string]string{}
	seen := map[string]bool{}
	for _, o := range opps {
		apps, err := s.st.applicationsOf(ctx, o.ID)
		if err != nil {
			return nil, roster.Result{}, err
		}
		// People who declined or withdrew, or were declined, are not proposed again for
		// that shift.
		refused := map[[2]string]bool{}
		for _, a := range apps {
			if a.Status == StatusDeclined || a.Status == StatusWithdrawn {
				refused[[2]string{a.VolunteerID, a.ShiftID}] = true
			}
		}
		mo := matchOpportunity(o)
		for _, sh := range o.Shifts {
			free := sh.Capacity - sh.Taken
			if !sh.Start.After(now) || free <= 0 || !keep(sh) {
				continue
			}
			cands, err := c.ix.Rank(&mo, sh.ID, match.Options{Limit: max(s.cfg.RosterCandidates, 2*free)})
			if err != nil {
				return nil, roster.Result{}, fmt.Errorf("rank: %w", err)
			}
			oppOf[sh.ID] = o.ID
			prob.Shifts = append(prob.Shifts, roster.Shift{ID: sh.ID, Start: sh.Start, End: sh.End, Capacity: free})
			for _, cand := range cands {
				if refused[[2]string{cand.VolunteerID, sh.ID}] {
					continue
				}
				prob.Pairs = append(prob.Pairs, roster.Pair{VolunteerID: cand.VolunteerID, ShiftID: sh.ID, Score: cand.Score})
				if !seen[cand.VolunteerID] {
					seen[cand.VolunteerID] = true
					prob.Volunteers = append(prob.Volunteers, s.rosterVolunteer(c.profiles[cand.VolunteerID]))
				}
			}
		}
	}
	res, err := roster.Solve(prob)
	if err != nil {
		return nil, roster.Result{}, fmt.Errorf("solve roster: %w", err)
	}
	out := make([]RosterAssignment, 0, len(res.Assignments))
	for _, a := range res.Assignments {
		out = append(out, RosterAssignment{OpportunityID: oppOf[a.ShiftID], ShiftID: a.ShiftID,
			VolunteerID: a.VolunteerID, Score: a.Score})
	}
	slices.SortFunc(out, func(a, b RosterAssignment) int {
		return cmp.Or(cmp.Compare(a.OpportunityID, b.OpportunityID), cmp.Compare(a.ShiftID, b.ShiftID),
			cmp.Compare(a.VolunteerID, b.VolunteerID))
	})
	return out, res, nil
}

func (s *Service) rosterVolunteer(mp *match.Profile) roster.Volunteer {
	v := roster.Volunteer{ID: mp.ID, MaxWeekly: mp.MaxWeekly, Committed: map[roster.Week]time.Duration{}}
	for _, c := range mp.Commitments {
		v.Commitments = append(v.Commitments, roster.Interval{Start: c.Start, End: c.End})
		v.Committed[roster.WeekOf(c.Start, s.cfg.Location)] += c.End.Sub(c.Start)
	}
	return v
}

// Sign-up workflow.

// signupRules are the hard rules checked when a volunteer applies or is invited. The
// person's own availability is left to them when they apply themselves: applying says
// they are free. Their weekly hours limit is not: it is checked whenever a place is
// taken or promised (placeRules). An organiser may invite only someone the matcher
// finds fully eligible.
var signupRules = []match.Rule{match.RuleAge, match.RuleBackgroundCheck, match.RuleRequiredSkills, match.RuleOverlap}

// placeRules are checked, with the volunteer's profile row locked, in the transaction
// that confirms a place (auto-accepted sign-up, confirm) or accepts an application, so
// two bookings of one person cannot both pass on a view that misses the other.
var placeRules = []match.Rule{match.RuleOverlap, match.RuleWeeklyHours}

// eligible checks a volunteer against the shift's hard rules with a fresh one-person
// index, so the answer reflects this transaction's view, not the cache. It locks the
// volunteer's profile row until commit, which serialises one person's bookings on
// PostgreSQL; callers lock the shift first, so locks are always taken shift, then person.
func (s *Service) eligible(ctx context.Context, q queryer, volunteerID string, o Opportunity, shiftID string, rules []match.Rule) error {
	prof, err := s.st.lockProfile(ctx, q, volunteerID)
	if err != nil {
		if errorCode(err) == sdk.CodeNotFound {
			return sdk.Errorf(sdk.CodeConflict, "volunteer %s has no volunteer profile; create one first", volunteerID)
		}
		return err
	}
	mp := matchProfile(prof)
	mine, err := s.st.applicationsBy(ctx, q, volunteerID)
	if err != nil {
		return err
	}
	var held []string
	for _, a := range mine {
		if slices.Contains(heldStatuses, a.Status) {
			held = append(held, a.OpportunityID)
		}
	}
	if len(held) > 0 {
		shifts, err := s.st.shiftsOf(ctx, q, dedupe(held))
		if err != nil {
			return err
		}
		heldShift := map[string]bool{}
		for _, a := range mine {
			if slices.Contains(heldStatuses, a.Status) {
				heldShift[a.ShiftID] = true
			}
		}
		for _, l := range shifts {
			for _, sh := range l {
				if heldShift[sh.ID] {
					mp.Commitments = append(mp.Commitments, match.Interval{Start: sh.Start, End: sh.End})
				}
			}
		}
	}
	ix, err := match.NewIndex(s.cfg.Location, []match.Profile{mp})
	if err != nil {
		return fmt.Errorf("build index: %w", err)
	}
	mo := matchOpportunity(o)
	v, err := ix.Explain(volunteerID, &mo, shiftID, match.Options{})
	if err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	f := fields{}
	for _, r := range v.Failed {
		if slices.Contains(rules, r) {
			f.add(string(r), ruleMessages[r])
		}
	}
	if _, ok := f[string(match.RuleWeeklyHours)]; ok {
		f[string(match.RuleWeeklyHours)] = s.weeklyMessage(mp, shiftID, o)
	}
	if len(f) > 0 {
		names := make([]string, 0, len(f))
		for k := range f {
			names = append(names, k)
		}
		slices.Sort(names)
		return &sdk.Error{Code: sdk.CodeConflict, Message: "not eligible for this shift: " + strings.Join(names, ", "), Fields: f}
	}
	return nil
}

// weeklyMessage says by how much a shift would break the volunteer's weekly limit.
func (s *Service) weeklyMessage(mp match.Profile, shiftID string, o Opportunity) string {
	sh, _ := findShift(o, shiftID)
	wk := roster.WeekOf(sh.Start, s.cfg.Location)
	var committed time.Duration
	for _, c := range mp.Commitments {
		if roster.WeekOf(c.Start, s.cfg.Location) == wk {
			committed += c.End.Sub(c.Start)
		}
	}
	return fmt.Sprintf("%s (%s): %s already committed in week %d of %d, this shift %s",
		ruleMessages[match.RuleWeeklyHours], hoursText(mp.MaxWeekly), hoursText(committed), wk.Week, wk.Year,
		hoursText(sh.End.Sub(sh.Start)))
}

func hoursText(d time.Duration) string {
	return strconv.FormatFloat(d.Hours(), 'f', -1, 64) + " h"
}

// openShift checks that the opportunity takes sign-ups for the shift now.
func (s *Service) openShift(o Opportunity, shiftID string) (Shift, error) {
	sh, err := findShift(o, shiftID)
	if err != nil {
		return Shift{}, err
	}
	switch o.State {
	case StatePublished:
	case StateCancelled:
		return Shift{}, sdk.Errorf(sdk.CodeConflict, "opportunity %s is cancelled", o.ID)
	default:
		return Shift{}, sdk.Errorf(sdk.CodeConflict, "opportunity %s is %s, not open for sign-ups", o.ID, o.State)
	}
	if !sh.Start.After(s.clock()) {
		return Shift{}, sdk.Errorf(sdk.CodeConflict, "shift %s has already started", shiftID)
	}
	return sh, nil
}

// Apply signs the caller up for a shift. On an auto-accept opportunity the application is
// accepted and confirmed at once, or wait-listed when the shift is full.
func (s *Service) Apply(ctx context.Context, p sdk.Principal, oppID, shiftID string) (Application, error) {
	if err := requireUser(p); err != nil {
		return Application{}, err
	}
	o, err := s.st.opportunity(ctx, s.st.db, oppID)
	if err != nil {
		return Application{}, err
	}
	if _, err := s.openShift(o, shiftID); err != nil {
		return Application{}, err
	}
	now := s.clock()
	a := Application{ID: newID(), OpportunityID: oppID, ShiftID: shiftID, VolunteerID: p.UserID,
		Status: StatusApplied, Origin: StatusApplied, CreatedAt: now, UpdatedAt: now}
	var ev []event
	err = s.st.inTx(ctx, func(tx *sqlx.Tx) error {
		// Lock the shift before inserting: on PostgreSQL the insert's foreign key takes a
		// share lock on the shift row, and two sign-ups upgrading their share locks to the
		// update lock in take would deadlock.
		if _, err := s.st.lockShift(ctx, tx, shiftID); err != nil {
			return err
		}
		rules := signupRules
		if o.AutoAccept {
			// The sign-up takes a place (or a wait-list spot promoted without asking).
			rules = append(slices.Clone(signupRules), placeRules...)
		}
		if err := s.eligible(ctx, tx, p.UserID, o, shiftID, rules); err != nil {
			return err
		}
		if err := s.st.insertApplication(ctx, tx, a); err != nil {
			return err
		}
		if !o.AutoAccept {
			return nil
		}
		ev, err = s.take(ctx, tx, a, []string{StatusApplied}, now)
		return err
	})
	if err != nil {
		return Application{}, err
	}
	s.emit(ctx, ev)
	return s.st.application(ctx, s.st.db, a.ID)
}

// Invite asks a matched volunteer to take a shift; the volunteer confirms or withdraws.
func (s *Service) Invite(ctx context.Context, p sdk.Principal, oppID, shiftID, volunteerID string) (Application, error) {
	o, err := s.organiser(ctx, p, oppID)
	if err != nil {
		return Application{}, err
	}
	if _, err := s.openShift(o, shiftID); err != nil {
		return Application{}, err
	}
	if volunteerID == "" {
		return Application{}, invalid("volunteer_id", "required", "volunteer_id is required")
	}
	now := s.clock()
	a := Application{ID: newID(), OpportunityID: oppID, ShiftID: shiftID, VolunteerID: volunteerID,
		Status: StatusInvited, Origin: StatusInvited, CreatedAt: now, UpdatedAt: now}
	rules := append(slices.Clone(signupRules), match.RuleAvailability, match.RuleDateUnavailable, match.RuleWeeklyHours)
	err = s.st.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := s.st.lockShift(ctx, tx, shiftID); err != nil {
			return err
		}
		if err := s.eligible(ctx, tx, volunteerID, o, shiftID, rules); err != nil {
			return err
		}
		return s.st.insertApplication(ctx, tx, a)
	})
	if err != nil {
		return Application{}, err
	}
	s.publish(ctx, "volunteers.application.invited", map[string]any{"application_id": a.ID,
		"opportunity_id": oppID, "shift_id": shiftID, "volunteer_id": volunteerID})
	return s.st.application(ctx, s.st.db, a.ID)
}

// event is published after the transaction that caused it commits.
type event struct {
	typ     string
	payload map[string]any
}

func (s *Service) emit(ctx context.Context, evs []event) {
	for _, e := range evs {
		s.publish(ctx, e.typ, e.payload)
	}
}

func appEvent(typ string, a Application) event {
	return event{typ, map[string]any{"application_id": a.ID, "opportunity_id": a.OpportunityID,
		"shift_id": a.ShiftID, "volunteer_id": a.VolunteerID}}
}

// take gives a the shift's next place or puts it on the wait list. The shift row is
// locked first, so concurrent takers of one shift queue and each counts the others'
// committed places.
func (s *Service) take(ctx context.Context, tx *sqlx.Tx, a Application, from []string, now time.Time) ([]event, error) {
	capacity, err := s.st.lockShift(ctx, tx, a.ShiftID)
	if err != nil {
		return nil, err
	}
	ok, err := s.st.confirmIfRoom(ctx, tx, a.ID, a.ShiftID, from, now)
	if err != nil {
		return nil, err
	}
	if !ok {
		moved, err := s.st.waitlist(ctx, tx, a.ID, from, now)
		if err != nil {
			return nil, err
		}
		if !moved {
			return nil, sdk.Errorf(sdk.CodeConflict, "application %s changed meanwhile; reload and retry", a.ID)
		}
		return []event{appEvent("volunteers.assignment.waitlisted", a)}, nil
	}
	if err := s.st.bumpVersion(ctx, tx); err != nil {
		return nil, err
	}
	evs := []event{appEvent("volunteers.assignment.confirmed", a)}
	held, err := s.st.held(ctx, tx, a.ShiftID)
	if err != nil {
		return nil, err
	}
	if held >= capacity {
		evs = append(evs, event{"volunteers.shift.filled", map[string]any{"opportunity_id": a.OpportunityID,
			"shift_id": a.ShiftID, "capacity": capacity}})
	}
	return evs, nil
}

// promote fills free places of a shift from its wait list, longest waiting first.
func (s *Service) promote(ctx context.Context, tx *sqlx.Tx, shiftID string, now time.Time) ([]event, error) {
	var evs []event
	for {
		next, ok, err := s.st.nextWaiting(ctx, tx, shiftID)
		if err != nil || !ok {
			return evs, err
		}
		done, err := s.st.confirmIfRoom(ctx, tx, next.ID, shiftID, []string{StatusWaitlisted}, now)
		if err != nil || !done {
			return evs, err
		}
		if err := s.st.bumpVersion(ctx, tx); err != nil {
			return nil, err
		}
		evs = append(evs, appEvent("volunteers.assignment.promoted", next), appEvent("volunteers.assignment.confirmed", next))
	}
}

// Actions on an application.
const (
	ActionAccept   = "accept"
	ActionDecline  = "decline"
	ActionConfirm  = "confirm"
	ActionWithdraw = "withdraw"
)

// Decide applies an organiser's (accept, decline) or volunteer's (confirm, withdraw)
// decision to an application.
func (s *Service) Decide(ctx context.Context, p sdk.Principal, oppID, shiftID, appID, action string) (Application, error) {
	if err := requireUser(p); err != nil {
		return Application{}, err
	}
	a, err := s.st.application(ctx, s.st.db, appID)
	if err != nil {
		return Application{}, err
	}
	if a.OpportunityID != oppID || a.ShiftID != shiftID {
		return Application{}, sdk.Errorf(sdk.CodeNotFound, "application %s not found on shift %s", appID, shiftID)
	}
	o, err := s.st.opportunity(ctx, s.st.db, oppID)
	if err != nil {
		return Application{}, err
	}
	now := s.clock()
	var (
		from []string
		to   string
	)
	switch action {
	case ActionAccept, ActionDecline:
		if err := s.canOrganise(ctx, p, o.OrganisationID); err != nil {
			return Application{}, err
		}
		from, to = []string{StatusApplied}, StatusAccepted
		if action == ActionDecline {
			from, to = []string{StatusApplied, StatusAccepted, StatusWaitlisted}, StatusDeclined
		}
	case ActionConfirm, ActionWithdraw:
		if a.VolunteerID != p.UserID {
			return Application{}, sdk.Errorf(sdk.CodeForbidden, "only the volunteer may %s their own sign-up", action)
		}
		from = []string{StatusAccepted, StatusInvited}
		if action == ActionWithdraw {
			from, to = []string{StatusApplied, StatusInvited, StatusAccepted, StatusConfirmed, StatusWaitlisted}, StatusWithdrawn
		}
	default:
		return Application{}, sdk.Errorf(sdk.CodeNotFound, "unknown action %q", action)
	}
	if !slices.Contains(from, a.Status) {
		return Application{}, sdk.Errorf(sdk.CodeConflict, "cannot %s an application that is %s", action, a.Status)
	}
	if action != ActionWithdraw && action != ActionDecline {
		if _, err := s.openShift(o, shiftID); err != nil {
			return Application{}, err
		}
	}
	var evs []event
	err = s.st.inTx(ctx, func(tx *sqlx.Tx) error {
		if action == ActionConfirm {
			if _, err := s.st.lockShift(ctx, tx, shiftID); err != nil {
				return err
			}
			if err := s.eligible(ctx, tx, a.VolunteerID, o, shiftID, placeRules); err != nil {
				return err
			}
			evs, err = s.take(ctx, tx, a, from, now)
			return err
		}
		// Lock the shift, then re-read: a promotion or another decision may have moved
		// the application since it was read outside the transaction.
		if _, err := s.st.lockShift(ctx, tx, shiftID); err != nil {
			return err
		}
		cur, err := s.st.application(ctx, tx, appID)
		if err != nil {
			return err
		}
		if !slices.Contains(from, cur.Status) {
			return sdk.Errorf(sdk.CodeConflict, "cannot %s an application that is %s", action, cur.Status)
		}
		if action == ActionAccept {
			if err := s.eligible(ctx, tx, a.VolunteerID, o, shiftID, []match.Rule{match.RuleWeeklyHours}); err != nil {
				return err
			}
		}
		wasHeld := cur.Status == StatusConfirmed
		ok, err := s.st.setStatus(ctx, tx, appID, []string{cur.Status}, to, 0, now)
		if err != nil {
			return err
		}
		if !ok {
			return sdk.Errorf(sdk.CodeConflict, "application %s changed meanwhile; reload and retry", appID)
		}
		evs = append(evs, appEvent("volunteers.application."+to, a))
		if wasHeld {
			if err := s.st.bumpVersion(ctx, tx); err != nil {
				return err
			}
			more, err := s.promote(ctx, tx, shiftID, now)
			evs = append(evs, more...)
			return err
		}
		return nil
	})
	if err != nil {
		return Application{}, err
	}
	s.emit(ctx, evs)
	return s.st.application(ctx, s.st.db, appID)
}

// AttendanceInput records whether a confirmed volunteer came and for how long; Minutes
// defaults to the shift's length.
type AttendanceInput struct {
	Attended bool `json:"attended"`
	Minutes  *int `json:"minutes"`
}

// RecordAttendance marks a confirmed volunteer as attended (with hours) or a no-show,
// once the shift has started. It may be corrected later.
func (s *Service) RecordAttendance(ctx context.Context, p sdk.Principal, oppID, shiftID, appID string, in AttendanceInput) (Application, error) {
	o, err := s.organiser(ctx, p, oppID)
	if err != nil {
		return Application{}, err
	}
	sh, err := findShift(o, shiftID)
	if err != nil {
		return Application{}, err
	}
	a, err := s.st.application(ctx, s.st.db, appID)
	if err != nil {
		return Application{}, err
	}
	if a.ShiftID != shiftID {
		return Application{}, sdk.Errorf(sdk.CodeNotFound, "application %s not found on shift %s", appID, shiftID)
	}
	now := s.clock()
	if sh.Start.After(now) {
		return Application{}, sdk.Errorf(sdk.CodeConflict, "attendance can be recorded once the shift has started")
	}
	if !slices.Contains(heldStatuses, a.Status) {
		return Application{}, sdk.Errorf(sdk.CodeConflict, "attendance is recorded for confirmed volunteers; this one is %s", a.Status)
	}
	to, minutes := StatusNoShow, 0
	if in.Attended {
		to, minutes = StatusAttended, int(sh.End.Sub(sh.Start)/time.Minute)
		if in.Minutes != nil {
			if *in.Minutes < 0 || *in.Minutes > 24*60 {
				return Application{}, invalid("minutes", "must be between 0 and 1440", "minutes must be between 0 and 1440")
			}
			minutes = *in.Minutes
		}
	}
	err = s.st.inTx(ctx, func(tx *sqlx.Tx) error {
		ok, err := s.st.setStatus(ctx, tx, appID, heldStatuses, to, minutes, now)
		if err != nil {
			return err
		}
		if !ok {
			return sdk.Errorf(sdk.CodeConflict, "application %s changed meanwhile; reload and retry", appID)
		}
		return s.st.bumpVersion(ctx, tx)
	})
	if err != nil {
		return Application{}, err
	}
	s.publish(ctx, "volunteers.attendance.recorded", map[string]any{"application_id": appID, "opportunity_id": oppID,
		"shift_id": shiftID, "volunteer_id": a.VolunteerID, "attended": in.Attended, "minutes": minutes})
	return s.st.application(ctx, s.st.db, appID)
}

// Applications lists an opportunity's applications for its organiser: each with the
// volunteer's profile (they applied or were invited) and, after acceptance, contact.
func (s *Service) Applications(ctx context.Context, p sdk.Principal, oppID string) ([]ApplicationView, error) {
	if _, err := s.organiser(ctx, p, oppID); err != nil {
		return nil, err
	}
	apps, err := s.st.applicationsOf(ctx, oppID)
	if err != nil {
		return nil, err
	}
	var ids, contactIDs []string
	for _, a := range apps {
		if a.Status == StatusWithdrawn {
			continue // withdrawing takes the profile back
		}
		ids = append(ids, a.VolunteerID)
		if contactStatuses[a.Status] {
			contactIDs = append(contactIDs, a.VolunteerID)
		}
	}
	profs, err := s.st.profiles(ctx, dedupe(ids))
	if err != nil {
		return nil, err
	}
	contacts := map[string]Contact{}
	if len(contactIDs) > 0 {
		users, err := s.host.Users(ctx, dedupe(contactIDs))
		if err != nil {
			return nil, fmt.Errorf("look up users: %w", err)
		}
		for _, u := range users {
			contacts[u.ID] = Contact{DisplayName: u.DisplayName, Email: u.Email}
		}
	}
	out := make([]ApplicationView, len(apps))
	for i, a := range apps {
		out[i] = ApplicationView{Application: a}
		if a.Status == StatusWithdrawn {
			continue
		}
		if pr, ok := profs[a.VolunteerID]; ok {
			out[i].Profile = &pr
		}
		if c, ok := contacts[a.VolunteerID]; ok && contactStatuses[a.Status] {
			out[i].Contact = &c
		}
	}
	return out, nil
}

// Hours returns the caller's attended shifts and no-shows.
func (s *Service) Hours(ctx context.Context, p sdk.Principal) (Hours, error) {
	if err := requireUser(p); err != nil {
		return Hours{}, err
	}
	entries, err := s.st.hours(ctx, p.UserID)
	if err != nil {
		return Hours{}, err
	}
	h := Hours{VolunteerID: p.UserID, Entries: entries}
	for _, e := range entries {
		if e.Status == StatusAttended {
			h.Attended++
			h.TotalMinutes += e.Minutes
		} else {
			h.NoShows++
		}
	}
	h.TotalHours = float64(h.TotalMinutes) / 60
	return h, nil
}

// Erasure.

// erase removes everything kept about a person. Places they held are freed first so the
// wait lists move up as if they had withdrawn.
func (s *Service) erase(ctx context.Context, userID string) error {
	var evs []event
	err := s.st.inTx(ctx, func(tx *sqlx.Tx) error {
		mine, err := s.st.applicationsBy(ctx, tx, userID)
		if err != nil {
			return err
		}
		now := s.clock()
		for _, a := range mine {
			if a.Status != StatusConfirmed {
				continue
			}
			if _, err := s.st.lockShift(ctx, tx, a.ShiftID); err != nil {
				return err
			}
			if _, err := s.st.setStatus(ctx, tx, a.ID, []string{StatusConfirmed}, StatusWithdrawn, 0, now); err != nil {
				return err
			}
			more, err := s.promote(ctx, tx, a.ShiftID, now)
			if err != nil {
				return err
			}
			evs = append(evs, more...)
		}
		if err := s.st.erase(ctx, tx, userID); err != nil {
			return err
		}
		return s.st.bumpVersion(ctx, tx)
	})
	if err != nil {
		return err
	}
	s.emit(ctx, evs)
	return nil
}
