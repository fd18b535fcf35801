package assemblies

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Service is the assemblies domain: every rule and every object-level permission check
// lives here, on top of the storage helpers. Exported methods own their transaction.
type Service struct {
	db   *store.DB
	host sdk.Host
	log  *slog.Logger

	// Now and Rand are the clock and randomness; tests inject fixed ones.
	Now  func() time.Time
	Rand io.Reader

	// Shards is how many counter rows each option of a secret vote is spread over.
	// More shards let concurrent ballots on PostgreSQL lock different rows.
	Shards int
	// MemberListPublic shows member lists to everyone (city setting).
	MemberListPublic bool
	// AnswerDeadline is how long the city has to answer an adopted motion.
	AnswerDeadline time.Duration

	flushMu sync.Mutex
}

// postgresShards is how many counter rows per option a secret vote has on PostgreSQL.
// A ballot holds the row locks of its shard until it commits; with 64 shards, 16
// ballots in flight (the pool, which sdk/store caps) rarely meet on one shard, and the close still sums
// only 192 rows.
const postgresShards = 64

// NewService returns a service over db that calls back into host.
func NewService(db *store.DB, host sdk.Host, log *slog.Logger) *Service {
	shards := 1 // SQLite serialises writers anyway
	if db.IsPostgres() {
		shards = postgresShards
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{
		db: db, host: host, log: log, Now: time.Now, Rand: rand.Reader, Shards: shards,
		MemberListPublic: true, AnswerDeadline: 30 * 24 * time.Hour,
	}
}

// inTx runs fn in a transaction and, once it commits, hands queued events to the host.
func (s *Service) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	if err := s.tx(ctx, fn); err != nil {
		return err
	}
	s.Flush(ctx)
	return nil
}

// tx runs fn in a transaction. Writes that queue no event (ballots) use it directly:
// Flush reads the outbox under a plugin-wide mutex, which would queue every ballot
// behind every other.
func (s *Service) tx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// newID returns a UUIDv7 from the injected clock and randomness.
func (s *Service) newID() string {
	var b [16]byte
	if _, err := io.ReadFull(s.Rand, b[6:]); err != nil {
		panic(fmt.Sprintf("assemblies: randomness failed: %v", err))
	}
	ms := uint64(s.Now().UnixMilli())
	b[0], b[1], b[2], b[3], b[4], b[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	b[6] = 0x70 | b[6]&0x0f
	b[8] = 0x80 | b[8]&0x3f
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (s *Service) randInt(n int) int {
	if n <= 1 {
		return 0
	}
	v, err := rand.Int(s.Rand, big.NewInt(int64(n)))
	if err != nil {
		panic(fmt.Sprintf("assemblies: randomness failed: %v", err))
	}
	return int(v.Int64())
}

// lock returns the row-lock clause of the store's dialect.
func (s *Service) lock(exclusive bool) string { return lockClause(s.db.Dialect, exclusive) }

// --- permissions ---

func requireUser(p sdk.Principal) error {
	if !p.Authenticated() {
		return sdk.Errorf(sdk.CodeUnauthenticated, "sign in first")
	}
	return nil
}

func (s *Service) can(ctx context.Context, p sdk.Principal, perm, domain string) (bool, error) {
	if !p.Authenticated() {
		return false, nil
	}
	ok, err := s.host.Can(ctx, p.UserID, perm, domain)
	if err != nil {
		return false, fmt.Errorf("check %s in %s: %w", perm, domain, err)
	}
	return ok, nil
}

// isManager reports whether p manages the assembly's neighbourhood (its coordinator or
// a city admin, unless the city changed the grants).
func (s *Service) isManager(ctx context.Context, p sdk.Principal, a Assembly) (bool, error) {
	return s.can(ctx, p, PermAssemblyManage, "nbh:"+a.NeighbourhoodID)
}

// activeMember returns p's active membership, or a forbidden error.
func activeMember(ctx context.Context, q sqlx.ExtContext, a Assembly, p sdk.Principal) (memberRow, error) {
	m, err := getMember(ctx, q, a.ID, p.UserID)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && m.Status != MemberActive) {
		return m, sdk.Errorf(sdk.CodeForbidden, "only members of assembly %q may do this", a.Name)
	}
	if err != nil {
		return m, fmt.Errorf("find member: %w", err)
	}
	return m, nil
}

// officer checks that p holds one of positions in the assembly, or, when managersToo,
// manages its neighbourhood.
func (s *Service) officer(ctx context.Context, q sqlx.ExtContext, a Assembly, p sdk.Principal, managersToo bool, positions ...string) error {
	if err := requireUser(p); err != nil {
		return err
	}
	m, err := getMember(ctx, q, a.ID, p.UserID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("find member: %w", err)
	}
	if err == nil && m.Status == MemberActive && slices.Contains(positions, m.Position) {
		return nil
	}
	if managersToo {
		ok, err := s.isManager(ctx, p, a)
		if err != nil || ok {
			return err
		}
		return sdk.Errorf(sdk.CodeForbidden, "only the %s of this assembly or a coordinator of its neighbourhood may do this", strings.Join(positions, " or "))
	}
	return sdk.Errorf(sdk.CodeForbidden, "only the %s of this assembly may do this", strings.Join(positions, " or "))
}

// --- assemblies ---

// CreateAssemblyInput is what a coordinator gives to create an assembly.
type CreateAssemblyInput struct {
	NeighbourhoodID string `json:"neighbourhood_id" max:"64"`
	Name            string `json:"name" max:"200"`
	Charter         string `json:"charter" max:"20000"`
	Rules
}

func (in *CreateAssemblyInput) normalise() error {
	in.Name, in.NeighbourhoodID = strings.TrimSpace(in.Name), strings.TrimSpace(in.NeighbourhoodID)
	if in.Majority == "" {
		in.Majority = MajoritySimple
	}
	if in.Secrecy == "" {
		in.Secrecy = SecrecyNamed
	}
	if in.Membership == "" {
		in.Membership = MembershipOpen
	}
	f := fieldErrors{}
	if in.NeighbourhoodID == "" {
		f.add("neighbourhood_id", "is required")
	}
	if in.Name == "" {
		f.add("name", "is required")
	} else if len(in.Name) > 200 {
		f.add("name", "must be at most 200 characters")
	}
	switch {
	case in.QuorumPercent != 0 && in.QuorumAbsolute != 0:
		f.add("quorum_percent", "set either quorum_percent or quorum_absolute, not both")
	case in.QuorumPercent == 0 && in.QuorumAbsolute == 0:
		f.add("quorum_percent", "is required (1–100), unless quorum_absolute is set")
	case in.QuorumPercent < 0 || in.QuorumPercent > 100:
		f.add("quorum_percent", "must be between 1 and 100: a quorum above the whole membership can never be met")
	case in.QuorumAbsolute < 0:
		f.add("quorum_absolute", "must be a positive number of ballots")
	}
	if !slices.Contains([]string{MajoritySimple, MajorityAbsolute, MajorityTwoThirds}, in.Majority) {
		f.add("majority", "must be simple, absolute or two_thirds")
	}
	if !slices.Contains([]string{SecrecyNamed, SecrecySecret}, in.Secrecy) {
		f.add("secrecy", "must be named or secret")
	}
	if !slices.Contains([]string{MembershipOpen, MembershipApproval}, in.Membership) {
		f.add("membership", "must be open or approval")
	}
	if in.TermMonths < 0 || in.TermMonths > 120 {
		f.add("term_months", "must be between 0 (no fixed term) and 120")
	}
	if in.OrgSeats < 0 || in.OrgSeats > 1000 {
		f.add("org_seats", "must be between 0 and 1000")
	}
	return f.err()
}

// CreateAssembly creates an assembly in a neighbourhood p manages.
func (s *Service) CreateAssembly(ctx context.Context, p sdk.Principal, in CreateAssemblyInput) (Assembly, error) {
	if err := requireUser(p); err != nil {
		return Assembly{}, err
	}
	if err := in.normalise(); err != nil {
		return Assembly{}, err
	}
	nbhs, err := s.host.Neighbourhoods(ctx, []string{in.NeighbourhoodID})
	if err != nil {
		return Assembly{}, fmt.Errorf("find neighbourhood: %w", err)
	}
	if len(nbhs) == 0 {
		return Assembly{}, sdk.InvalidField("neighbourhood_id", "no such neighbourhood")
	}
	if nbhs[0].Archived {
		return Assembly{}, sdk.InvalidField("neighbourhood_id", "the neighbourhood is archived")
	}
	ok, err := s.can(ctx, p, PermAssemblyManage, "nbh:"+in.NeighbourhoodID)
	if err != nil {
		return Assembly{}, err
	}
	if !ok {
		return Assembly{}, sdk.Errorf(sdk.CodeForbidden, "only a coordinator of neighbourhood %q or a city admin may create its assemblies", nbhs[0].Name)
	}
	a := Assembly{ID: s.newID(), NeighbourhoodID: in.NeighbourhoodID, Name: in.Name, Charter: in.Charter,
		Rules: in.Rules, CreatedAt: s.Now().UTC()}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := insertAssembly(ctx, tx, a, p.UserID); err != nil {
			return err
		}
		return s.event(ctx, tx, EventAssemblyCreated, a, nil)
	})
	if err != nil {
		return Assembly{}, err
	}
	s.audit(ctx, p, "assemblies.assembly.create", a, "assembly:"+a.ID, nil)
	return a, nil
}

// Assembly returns one assembly.
func (s *Service) Assembly(ctx context.Context, id string) (Assembly, error) {
	return getAssembly(ctx, s.db, id, s.Now())
}

// Assemblies lists assemblies, optionally of one neighbourhood.
func (s *Service) Assemblies(ctx context.Context, neighbourhoodID string) ([]Assembly, error) {
	return listAssemblies(ctx, s.db, neighbourhoodID, s.Now())
}

// --- members ---

func (s *Service) termFor(a Assembly, now time.Time) (start, end string) {
	start = fmtTime(now)
	if a.TermMonths > 0 {
		end = fmtTime(now.AddDate(0, a.TermMonths, 0))
	}
	return start, end
}

// Join makes p a member (open assemblies) or an applicant (approval assemblies). Only
// verified residents of the assembly's neighbourhood may join.
func (s *Service) Join(ctx context.Context, p sdk.Principal, assemblyID string) (Member, error) {
	if err := requireUser(p); err != nil {
		return Member{}, err
	}
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return Member{}, err
	}
	ok, err := s.can(ctx, p, PermMemberJoin, "nbh:"+a.NeighbourhoodID)
	if err != nil {
		return Member{}, err
	}
	if !ok || !slices.Contains(p.Neighbourhoods, a.NeighbourhoodID) {
		return Member{}, sdk.Errorf(sdk.CodeForbidden, "only verified residents of this assembly's neighbourhood may join it")
	}
	var out memberRow
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		old, err := getMember(ctx, tx, a.ID, p.UserID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err == nil {
			switch old.Status {
			case MemberActive:
				return sdk.Errorf(sdk.CodeConflict, "you are already a member of this assembly")
			case MemberPending:
				return sdk.Errorf(sdk.CodeConflict, "your application to this assembly is already waiting for approval")
			}
		}
		now := s.Now()
		out = memberRow{AssemblyID: a.ID, UserID: p.UserID, Kind: KindResident, Position: PositionMember, AppliedAt: fmtTime(now)}
		// Someone removed by the assembly comes back only through approval.
		if a.Membership == MembershipOpen && old.Status != MemberRemoved {
			out.Status, out.JoinedAt = MemberActive, fmtTime(now)
			out.TermStart, out.TermEnd = s.termFor(a, now)
		} else {
			out.Status = MemberPending
		}
		if err := putMember(ctx, tx, out); err != nil {
			return err
		}
		return s.event(ctx, tx, EventMemberJoined, a, map[string]any{"user_id": p.UserID, "status": out.Status})
	})
	if err != nil {
		return Member{}, err
	}
	return s.named(ctx, out.member()), nil
}

// NameDelegateInput names a delegate of an organisation.
type NameDelegateInput struct {
	OrganisationID string `json:"organisation_id" max:"64"`
	// UserID is the delegate; empty means the caller.
	UserID string `json:"user_id" max:"64"`
}

// NameDelegate seats a delegate for a verified organisation active in the assembly's
// neighbourhood; p must represent the organisation.
func (s *Service) NameDelegate(ctx context.Context, p sdk.Principal, assemblyID string, in NameDelegateInput) (Member, error) {
	if err := requireUser(p); err != nil {
		return Member{}, err
	}
	if in.UserID == "" {
		in.UserID = p.UserID
	}
	if strings.TrimSpace(in.OrganisationID) == "" {
		return Member{}, sdk.InvalidField("organisation_id", "is required")
	}
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return Member{}, err
	}
	if a.OrgSeats == 0 {
		return Member{}, sdk.Errorf(sdk.CodeConflict, "this assembly has no seats for organisations")
	}
	orgs, err := s.host.Organisations(ctx, []string{in.OrganisationID})
	if err != nil {
		return Member{}, fmt.Errorf("find organisation: %w", err)
	}
	if len(orgs) == 0 {
		return Member{}, sdk.InvalidField("organisation_id", "no such organisation")
	}
	org := orgs[0]
	if !org.Verified || !slices.Contains(org.NeighbourhoodIDs, a.NeighbourhoodID) {
		return Member{}, sdk.Errorf(sdk.CodeForbidden, "only verified organisations active in this assembly's neighbourhood may name a delegate")
	}
	if !slices.Contains(org.Representatives, p.UserID) {
		return Member{}, sdk.Errorf(sdk.CodeForbidden, "only a representative of %q may name its delegate", org.Name)
	}
	users, err := s.host.Users(ctx, []string{in.UserID})
	if err != nil {
		return Member{}, fmt.Errorf("find user: %w", err)
	}
	if len(users) == 0 {
		return Member{}, sdk.InvalidField("user_id", "no such user")
	}
	var out memberRow
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		all, ofOrg, err := countDelegates(ctx, tx, a.ID, org.ID)
		if err != nil {
			return err
		}
		if ofOrg > 0 {
			return sdk.Errorf(sdk.CodeConflict, "%q already has a delegate in this assembly", org.Name)
		}
		if all >= a.OrgSeats {
			return sdk.Errorf(sdk.CodeConflict, "all %d organisation seats of this assembly are taken", a.OrgSeats)
		}
		old, err := getMember(ctx, tx, a.ID, in.UserID)
		if err == nil && (old.Status == MemberActive || old.Status == MemberPending) {
			return sdk.Errorf(sdk.CodeConflict, "this person is already a member of the assembly")
		}
		now := s.Now()
		out = memberRow{AssemblyID: a.ID, UserID: in.UserID, Kind: KindDelegate, OrganisationID: org.ID,
			Status: MemberActive, Position: PositionMember, AppliedAt: fmtTime(now), JoinedAt: fmtTime(now)}
		out.TermStart, out.TermEnd = s.termFor(a, now)
		if err := putMember(ctx, tx, out); err != nil {
			return err
		}
		return s.event(ctx, tx, EventMemberJoined, a, map[string]any{"user_id": in.UserID, "organisation_id": org.ID, "status": out.Status})
	})
	if err != nil {
		return Member{}, err
	}
	return s.named(ctx, out.member()), nil
}

// Members lists an assembly's active members and, for its officers, its applicants.
// When the city hides member lists, only members and managers see them.
func (s *Service) Members(ctx context.Context, p sdk.Principal, assemblyID string) ([]Member, error) {
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return nil, err
	}
	statuses := []string{MemberActive}
	if p.Authenticated() {
		if s.officer(ctx, s.db, a, p, true, PositionChair, PositionViceChair, PositionSecretary) == nil {
			statuses = append(statuses, MemberPending)
		}
	}
	if !s.MemberListPublic && len(statuses) == 1 {
		if err := requireUser(p); err != nil {
			return nil, sdk.Errorf(sdk.CodeUnauthenticated, "this city keeps member lists to members: sign in first")
		}
		if _, err := activeMember(ctx, s.db, a, p); err != nil {
			return nil, sdk.Errorf(sdk.CodeForbidden, "this city keeps member lists to the assembly's members")
		}
	}
	rows, err := listMembers(ctx, s.db, a.ID, statuses)
	if err != nil {
		return nil, err
	}
	out := make([]Member, len(rows))
	for i, r := range rows {
		out[i] = r.member()
	}
	return s.namedAll(ctx, out), nil
}

// named fills in a member's display name; a failure to ask the host leaves it blank.
func (s *Service) named(ctx context.Context, m Member) Member {
	return s.namedAll(ctx, []Member{m})[0]
}

func (s *Service) namedAll(ctx context.Context, ms []Member) []Member {
	if len(ms) == 0 {
		return ms
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.UserID
	}
	users, err := s.host.Users(ctx, ids)
	if err != nil {
		s.log.WarnContext(ctx, "display names unavailable", "error", err)
		return ms
	}
	names := map[string]string{}
	for _, u := range users {
		names[u.ID] = u.DisplayName
	}
	for i := range ms {
		ms[i].DisplayName = names[ms[i].UserID]
	}
	return ms
}

// MemberDecision is the body of approve, reject and remove.
type MemberDecision struct {
	Reason string `json:"reason" max:"4000"`
}

// DecideMember approves, rejects or removes a member. Officers (chair, vice-chair)
// and the neighbourhood's coordinators decide; removal needs a reason.
func (s *Service) DecideMember(ctx context.Context, p sdk.Principal, assemblyID, userID, action string, in MemberDecision) (Member, error) {
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return Member{}, err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if action == "remove" && in.Reason == "" {
		return Member{}, sdk.InvalidField("reason", "is required: a removal is always explained")
	}
	var out memberRow
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.officer(ctx, tx, a, p, true, PositionChair, PositionViceChair); err != nil {
			return err
		}
		m, err := getMember(ctx, tx, a.ID, userID)
		if err != nil {
			return notFound(err, "member", userID)
		}
		now := s.Now()
		switch action {
		case "approve", "reject":
			if m.Status != MemberPending {
				return sdk.Errorf(sdk.CodeConflict, "only a pending application can be approved or rejected; this membership is %s", m.Status)
			}
			if action == "approve" {
				m.Status, m.JoinedAt = MemberActive, fmtTime(now)
				m.TermStart, m.TermEnd = s.termFor(a, now)
			} else {
				m.Status, m.EndedAt, m.EndReason = MemberRejected, fmtTime(now), in.Reason
			}
		case "remove":
			if m.Status != MemberActive {
				return sdk.Errorf(sdk.CodeConflict, "only an active member can be removed; this membership is %s", m.Status)
			}
			m.Status, m.EndedAt, m.EndReason, m.Position = MemberRemoved, fmtTime(now), in.Reason, PositionMember
		}
		out = m
		return putMember(ctx, tx, m)
	})
	if err != nil {
		return Member{}, err
	}
	s.audit(ctx, p, "assemblies.member."+action, a, "user:"+userID, map[string]any{"reason": in.Reason})
	return s.named(ctx, out.member()), nil
}

// PositionInput sets a member's position and, optionally, term.
type PositionInput struct {
	Position  string     `json:"position" max:"32"`
	TermStart *time.Time `json:"term_start"`
	TermEnd   *time.Time `json:"term_end"`
}

// SetPosition appoints a member to a position. Coordinators and the chair appoint;
// an assembly has at most one chair, so appointing a new chair demotes the old one.
func (s *Service) SetPosition(ctx context.Context, p sdk.Principal, assemblyID, userID string, in PositionInput) (Member, error) {
	if !slices.Contains([]string{PositionChair, PositionViceChair, PositionSecretary, PositionMember}, in.Position) {
		return Member{}, sdk.InvalidField("position", "must be chair, vice_chair, secretary or member")
	}
	if in.TermStart != nil && in.TermEnd != nil && !in.TermEnd.After(*in.TermStart) {
		return Member{}, sdk.InvalidField("term_end", "must be after term_start")
	}
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return Member{}, err
	}
	var out memberRow
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.officer(ctx, tx, a, p, true, PositionChair); err != nil {
			return err
		}
		m, err := getMember(ctx, tx, a.ID, userID)
		if err != nil {
			return notFound(err, "member", userID)
		}
		if m.Status != MemberActive {
			return sdk.Errorf(sdk.CodeConflict, "only an active member can hold a position; this membership is %s", m.Status)
		}
		if in.Position == PositionChair || in.Position == PositionViceChair || in.Position == PositionSecretary {
			if _, err := exec(ctx, tx, `UPDATE members SET position = 'member' WHERE assembly_id = ? AND position = ? AND user_id <> ?`,
				a.ID, in.Position, userID); err != nil {
				return fmt.Errorf("demote previous %s: %w", in.Position, err)
			}
		}
		m.Position = in.Position
		if in.TermStart != nil {
			m.TermStart = fmtTime(*in.TermStart)
		}
		if in.TermEnd != nil {
			m.TermEnd = fmtTime(*in.TermEnd)
		}
		out = m
		return putMember(ctx, tx, m)
	})
	if err != nil {
		return Member{}, err
	}
	s.audit(ctx, p, "assemblies.member.position", a, "user:"+userID, map[string]any{"position": in.Position})
	return s.named(ctx, out.member()), nil
}

// Leave ends p's own membership or application.
func (s *Service) Leave(ctx context.Context, p sdk.Principal, assemblyID string) (Member, error) {
	if err := requireUser(p); err != nil {
		return Member{}, err
	}
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return Member{}, err
	}
	var out memberRow
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		m, err := getMember(ctx, tx, a.ID, p.UserID)
		if err != nil || (m.Status != MemberActive && m.Status != MemberPending) {
			return sdk.Errorf(sdk.CodeConflict, "you are not a member of this assembly")
		}
		m.Status, m.EndedAt, m.Position = MemberLeft, fmtTime(s.Now()), PositionMember
		out = m
		return putMember(ctx, tx, m)
	})
	if err != nil {
		return Member{}, err
	}
	return s.named(ctx, out.member()), nil
}

// --- helpers for events and audit ---

// event queues an event in the transaction; Flush hands it to the host after commit.
func (s *Service) event(ctx context.Context, tx sqlx.ExtContext, typ string, a Assembly, extra map[string]any) error {
	payload := map[string]any{"assembly_id": a.ID, "neighbourhood_id": a.NeighbourhoodID}
	for k, v := range extra {
		payload[k] = v
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	return enqueue(ctx, tx, outboxRow{ID: s.newID(), Type: typ, Payload: string(b), At: fmtTime(s.Now())})
}

// Flush publishes queued events in order and stops at the first failure; what is left
// is retried by the next Flush (after the next write, or by the Activate loop).
func (s *Service) Flush(ctx context.Context) {
	if s.host == nil {
		return
	}
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	var rows []outboxRow
	if err := sel(ctx, s.db, &rows, `SELECT id, type, payload, at FROM outbox ORDER BY at, id LIMIT 200`); err != nil {
		s.log.WarnContext(ctx, "read outbox", "error", err)
		return
	}
	for _, r := range rows {
		e := sdk.Event{ID: r.ID, Type: r.Type, Payload: json.RawMessage(r.Payload), OccurredAt: parseTime(r.At)}
		if err := s.host.Publish(ctx, e); err != nil {
			s.log.WarnContext(ctx, "publish event; will retry", "type", r.Type, "error", err)
			return
		}
		if _, err := exec(ctx, s.db, `DELETE FROM outbox WHERE id = ?`, r.ID); err != nil {
			s.log.WarnContext(ctx, "delete published event", "error", err)
			return
		}
	}
}

// audit records an administrative act in the core's audit log; a failure is logged,
// not returned, because the act itself has happened.
func (s *Service) audit(ctx context.Context, p sdk.Principal, action string, a Assembly, target string, detail map[string]any) {
	if s.host == nil {
		return
	}
	err := s.host.Audit(ctx, sdk.AuditEntry{ActorID: p.UserID, Action: action, Domain: "nbh:" + a.NeighbourhoodID, Target: target, Detail: detail})
	if err != nil {
		s.log.WarnContext(ctx, "audit", "action", action, "error", err)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// pseudonym is what an erased person's vote rows are re-keyed to.
func (s *Service) pseudonym() string {
	var b [12]byte
	if _, err := io.ReadFull(s.Rand, b[:]); err != nil {
		panic(fmt.Sprintf("assemblies: randomness failed: %v", err))
	}
	return "erased-" + hex.EncodeToString(b[:])
}
