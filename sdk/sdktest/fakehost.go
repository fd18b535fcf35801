package sdktest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/kvarter/kvarter/sdk"
)

// Core roles, as the core names them (core/principal.go).
const (
	RoleCityAdmin         = "city_admin"
	RoleCoordinator       = "coordinator"
	RoleResident          = "resident"
	RoleOrgMember         = "org_member"
	RoleOrgRepresentative = "org_representative"
)

// FakeHost is the core as a plugin sees it, in memory, for in-process tests: users,
// neighbourhoods, verified memberships, organisations and role grants, with Can
// following the core's rules (DESIGN.md §5): city_admin holds every permission; a role
// held in "city" holds in every domain; a verified member of a neighbourhood is its
// resident, a member of an organisation its org_member (and org_representative when
// representing it); roles get the permissions of the manifest's roles and default
// grants. It records published events (deduplicated by ID, as the core's outbox),
// audit entries, and the notifications and follows the plugin's outbox sends (see
// Notifications and Followers), seals with a real keyring, and can be made unavailable.
//
// It is safe for concurrent use.
type FakeHost struct {
	Sealing // SealingKey and Unseal with a real keyring

	mu          sync.Mutex
	manifest    sdk.Manifest
	users       map[string]sdk.User
	nbhs        map[string]sdk.Neighbourhood
	memberships map[string][]sdk.Membership    // user → verified memberships
	orgs        map[string]sdk.Organisation    // with Representatives
	orgMembers  map[string]map[string]string   // org → user → "member"|"representative"
	grants      map[string]map[string][]string // user → domain → explicit roles
	perms       map[string][]string            // role → permissions
	events      []sdk.Event
	held        map[string]bool // event IDs taken
	audits      []sdk.AuditEntry
	down        error
	seq         int
	notes       []*SentNotification // in the order first relayed
	noteByID    map[string]*SentNotification
	follows     map[string]map[string]bool // subject → user → following
	followLog   []sdk.FollowChange
}

// NewFakeHost returns an empty city whose roles grant what m's roles and default grants
// say. m may be the zero Manifest; then Publish takes any event type.
func NewFakeHost(m sdk.Manifest) *FakeHost {
	h := &FakeHost{manifest: m, users: map[string]sdk.User{}, nbhs: map[string]sdk.Neighbourhood{},
		memberships: map[string][]sdk.Membership{}, orgs: map[string]sdk.Organisation{},
		orgMembers: map[string]map[string]string{}, grants: map[string]map[string][]string{},
		perms: map[string][]string{}, held: map[string]bool{},
		noteByID: map[string]*SentNotification{}, follows: map[string]map[string]bool{}}
	for _, r := range m.Roles {
		h.perms[r.Name] = append(h.perms[r.Name], r.Permissions...)
	}
	for _, g := range m.Grants {
		h.perms[g.Role] = append(h.perms[g.Role], g.Permission)
	}
	return h
}

// AddUser registers a user; DisplayName and Email default to forms of the ID.
func (h *FakeHost) AddUser(u sdk.User) sdk.User {
	if u.DisplayName == "" {
		u.DisplayName = u.ID
	}
	if u.Email == "" {
		u.Email = u.ID + "@example.org"
	}
	if u.Locale == "" {
		u.Locale = "en"
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.users[u.ID] = u
	return u
}

// AddNeighbourhood registers a neighbourhood; Name defaults to its ID.
func (h *FakeHost) AddNeighbourhood(n sdk.Neighbourhood) sdk.Neighbourhood {
	if n.Name == "" {
		n.Name = n.ID
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.nbhs[n.ID] = n
	return n
}

// AddOrganisation registers an organisation; its Representatives become members with
// the representative role.
func (h *FakeHost) AddOrganisation(o sdk.Organisation) sdk.Organisation {
	if o.Name == "" {
		o.Name = o.ID
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.orgs[o.ID] = o
	if h.orgMembers[o.ID] == nil {
		h.orgMembers[o.ID] = map[string]string{}
	}
	for _, u := range o.Representatives {
		h.orgMembers[o.ID][u] = "representative"
	}
	return o
}

// AddOrgMember makes user a member ("member" or "representative") of an organisation
// added before.
func (h *FakeHost) AddOrgMember(orgID, userID, role string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	o, ok := h.orgs[orgID]
	if !ok {
		panic("sdktest: AddOrgMember of unknown organisation " + orgID)
	}
	if h.orgMembers[orgID] == nil {
		h.orgMembers[orgID] = map[string]string{}
	}
	h.orgMembers[orgID][userID] = role
	if role == "representative" && !slices.Contains(o.Representatives, userID) {
		o.Representatives = append(slices.Clone(o.Representatives), userID)
		h.orgs[orgID] = o
	}
}

// AddMember makes user a verified member, so a resident, of a neighbourhood.
func (h *FakeHost) AddMember(userID, nbhID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range h.memberships[userID] {
		if m.NeighbourhoodID == nbhID {
			return
		}
	}
	h.memberships[userID] = append(h.memberships[userID],
		sdk.Membership{UserID: userID, NeighbourhoodID: nbhID, VerifiedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
}

// Grant gives user role in domain ("city", "nbh:<id>", "org:<id>").
func (h *FakeHost) Grant(userID, role, domain string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.grants[userID] == nil {
		h.grants[userID] = map[string][]string{}
	}
	if !slices.Contains(h.grants[userID][domain], role) {
		h.grants[userID][domain] = append(h.grants[userID][domain], role)
	}
}

// GrantPermission gives every holder of role a permission, as a city admin may.
func (h *FakeHost) GrantPermission(role, permission string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.perms[role] = append(h.perms[role], permission)
}

// Principal is the caller the core would hand the plugin for user: their explicit
// roles, resident of each verified neighbourhood, org_member/org_representative of
// their organisations. The zero Principal for "" (anonymous). Unknown users are
// registered on the way.
func (h *FakeHost) Principal(userID string) sdk.Principal {
	if userID == "" {
		return sdk.Principal{}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	u, ok := h.users[userID]
	if !ok {
		u = sdk.User{ID: userID, DisplayName: userID, Email: userID + "@example.org", Locale: "en"}
		h.users[userID] = u
	}
	return h.principalLocked(u)
}

func (h *FakeHost) principalLocked(u sdk.User) sdk.Principal {
	p := sdk.Principal{UserID: u.ID, DisplayName: u.DisplayName, Locale: u.Locale, Roles: map[string][]string{},
		Neighbourhoods: []string{}, Organisations: []sdk.OrgMembership{}}
	for d, roles := range h.grants[u.ID] {
		p.Roles[d] = append(p.Roles[d], roles...)
	}
	for _, m := range h.memberships[u.ID] {
		p.Neighbourhoods = append(p.Neighbourhoods, m.NeighbourhoodID)
		d := "nbh:" + m.NeighbourhoodID
		p.Roles[d] = append(p.Roles[d], RoleResident)
	}
	orgIDs := make([]string, 0, len(h.orgMembers))
	for id := range h.orgMembers {
		orgIDs = append(orgIDs, id)
	}
	slices.Sort(orgIDs)
	for _, id := range orgIDs {
		role, ok := h.orgMembers[id][u.ID]
		if !ok {
			continue
		}
		p.Organisations = append(p.Organisations, sdk.OrgMembership{OrganisationID: id, Role: role, Verified: h.orgs[id].Verified})
		d := "org:" + id
		p.Roles[d] = append(p.Roles[d], RoleOrgMember)
		if role == "representative" {
			p.Roles[d] = append(p.Roles[d], RoleOrgRepresentative)
		}
	}
	return p
}

// SetUnavailable makes every call fail as when the host is away (sdk.IsUnavailable
// reports true for the error), or, with false, answer again.
func (h *FakeHost) SetUnavailable(down bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.down = nil
	if down {
		h.down = fmt.Errorf("sdktest: the host is away: %w", sdk.ErrUnavailable)
	}
}

// Events are the events the host took, in order; with types, only those.
func (h *FakeHost) Events(types ...string) []sdk.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []sdk.Event
	for _, e := range h.events {
		if len(types) == 0 || slices.Contains(types, e.Type) {
			out = append(out, e)
		}
	}
	return out
}

// EventTypes are the types of the events taken, in order.
func (h *FakeHost) EventTypes() []string {
	var out []string
	for _, e := range h.Events() {
		out = append(out, e.Type)
	}
	return out
}

// Payloads decodes the payloads of the events of type typ into a slice of T.
func Payloads[T any](tb interface {
	Helper()
	Fatalf(string, ...any)
}, h *FakeHost, typ string) []T {
	tb.Helper()
	var out []T
	for _, e := range h.Events(typ) {
		var v T
		if err := json.Unmarshal(e.Payload, &v); err != nil {
			tb.Fatalf("event %s %s: payload %s: %v", e.Type, e.ID, e.Payload, err)
		}
		out = append(out, v)
	}
	return out
}

// Audits are the audit entries appended, in order.
func (h *FakeHost) Audits() []sdk.AuditEntry {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.audits)
}

// Users returns the users with the given IDs that exist.
func (h *FakeHost) Users(_ context.Context, ids []string) ([]sdk.User, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down != nil {
		return nil, h.down
	}
	out := []sdk.User{}
	for _, id := range ids {
		if u, ok := h.users[id]; ok {
			out = append(out, u)
		}
	}
	return out, nil
}

// Neighbourhoods returns the neighbourhoods with the given IDs that exist.
func (h *FakeHost) Neighbourhoods(_ context.Context, ids []string) ([]sdk.Neighbourhood, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down != nil {
		return nil, h.down
	}
	out := []sdk.Neighbourhood{}
	for _, id := range ids {
		if n, ok := h.nbhs[id]; ok {
			out = append(out, n)
		}
	}
	return out, nil
}

// Memberships returns the verified memberships of the given users.
func (h *FakeHost) Memberships(_ context.Context, userIDs []string) ([]sdk.Membership, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down != nil {
		return nil, h.down
	}
	out := []sdk.Membership{}
	for _, id := range userIDs {
		out = append(out, h.memberships[id]...)
	}
	return out, nil
}

// Organisations returns the organisations with the given IDs that exist.
func (h *FakeHost) Organisations(_ context.Context, ids []string) ([]sdk.Organisation, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down != nil {
		return nil, h.down
	}
	out := []sdk.Organisation{}
	for _, id := range ids {
		if o, ok := h.orgs[id]; ok {
			out = append(out, o)
		}
	}
	return out, nil
}

// Can reports whether the user holds permission in domain; "" means in any domain
// where they hold a role.
func (h *FakeHost) Can(_ context.Context, userID, permission, domain string) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down != nil {
		return false, h.down
	}
	return h.canLocked(userID, permission, domain), nil
}

// Allowed is Can without the context and the outage, for a harness.
func (h *FakeHost) Allowed(userID, permission, domain string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.canLocked(userID, permission, domain)
}

func (h *FakeHost) canLocked(userID, permission, domain string) bool {
	if userID == "" {
		return false
	}
	u, ok := h.users[userID]
	if !ok {
		u = sdk.User{ID: userID}
	}
	p := h.principalLocked(u)
	holds := func(role string) bool {
		return role == RoleCityAdmin || slices.Contains(h.perms[role], permission) || slices.Contains(h.perms[role], "*")
	}
	for d, roles := range p.Roles {
		if domain != "" && d != domain && d != sdk.DomainCity {
			continue
		}
		if slices.ContainsFunc(roles, holds) {
			return true
		}
	}
	return false
}

// Publish records an event as the core's outbox does: ID, OccurredAt and Source are
// filled when empty; a type the manifest does not publish, or a payload that is not
// JSON, is refused.
func (h *FakeHost) Publish(ctx context.Context, e sdk.Event) error {
	return h.PublishAll(ctx, []sdk.Event{e})
}

// PublishAll records a batch all or nothing; an event whose ID the host holds already
// is skipped, so a relay may send a batch again.
func (h *FakeHost) PublishAll(_ context.Context, events []sdk.Event) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down != nil {
		return h.down
	}
	if len(events) > sdk.MaxPublishBatch {
		return fmt.Errorf("sdktest: %d events in one batch, at most %d", len(events), sdk.MaxPublishBatch)
	}
	for _, e := range events {
		if e.Type == sdk.NotifyEventType || e.Type == sdk.FollowEventType {
			if err := h.checkReserved(e); err != nil {
				return err
			}
			continue
		}
		if len(h.manifest.Publishes) > 0 && !slices.Contains(h.manifest.Publishes, e.Type) {
			return fmt.Errorf("sdktest: event type %q is not among the manifest's Publishes %v", e.Type, h.manifest.Publishes)
		}
		if len(e.Payload) > 0 && !json.Valid(e.Payload) {
			return fmt.Errorf("sdktest: event %s: payload is not JSON: %q", e.Type, e.Payload)
		}
	}
	for _, e := range events {
		if e.ID == "" {
			h.seq++
			e.ID = "event-" + strconv.Itoa(h.seq)
		}
		if h.held[e.ID] {
			continue
		}
		h.held[e.ID] = true
		if e.Type == sdk.NotifyEventType || e.Type == sdk.FollowEventType {
			h.takeReserved(e)
			continue
		}
		if e.OccurredAt.IsZero() {
			e.OccurredAt = time.Now().UTC()
		}
		if e.Source == "" {
			e.Source = h.manifest.Name
		}
		h.events = append(h.events, e)
	}
	return nil
}

// Audit appends an entry.
func (h *FakeHost) Audit(_ context.Context, e sdk.AuditEntry) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down != nil {
		return h.down
	}
	h.audits = append(h.audits, e)
	return nil
}

var _ sdk.Host = (*FakeHost)(nil)
