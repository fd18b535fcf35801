package assemblies

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
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
	db *store.DB
	// dialect is the SQL only one of the databases speaks (storage_*.go).
	dialect dialect
	host    sdk.Host
	log     *slog.Logger

	// Now and Rand are the clock and randomness; tests inject fixed ones.
	Now  func() time.Time
	Rand io.Reader

	// MemberListPublic shows member lists to everyone (city setting).
	MemberListPublic bool
	// AnswerDeadline is how long the city has to answer an adopted motion.
	AnswerDeadline time.Duration
	// Languages are the city's, which notifications are written in; Zone is the
	// city's time zone, in which they show times.
	Languages []string
	Zone      *time.Location

	// box seals secret ballots and has the host open them at the close.
	box *sdk.BallotBox
	// secrecy caches the secrecy of motions seen being voted on: it is fixed when the
	// vote opens, and a ballot must know it before it reaches the database, so that a
	// secret choice is never sent there in the clear (statement logs show parameters).
	secrecy sync.Map // motion ID -> string
}

// NewService returns a service over db that calls back into host.
func NewService(db *store.DB, host sdk.Host, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{
		db: db, dialect: dialectOf(db), host: host, log: log, Now: time.Now, Rand: rand.Reader, box: sdk.NewBallotBox(host),
		MemberListPublic: true, AnswerDeadline: 30 * 24 * time.Hour,
	}
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

// --- audit ---

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

func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
