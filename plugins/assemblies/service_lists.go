package assemblies

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// This file holds the lists the pages need besides the plain ones: the city-wide
// answers due, motions by kind (the city's consultations), meetings upcoming or past,
// and what one person is in an assembly and in a vote.

// DueAnswer is an adopted motion the city has not answered yet, with its assembly.
type DueAnswer struct {
	Motion
	AssemblyName    string `json:"assembly_name"`
	NeighbourhoodID string `json:"neighbourhood_id"`
}

func dueAnswerKey(d DueAnswer) []any { return []any{store.Micros(d.Answer.DueAt), d.ID} }

// AnswersDue lists, across the city, the adopted motions still waiting for the city's
// answer, the nearest deadline first (overdue ones first of all); overdueOnly keeps
// those past their deadline. It is public: the press and the council follow it, and it
// is the city responders' inbox.
func (s *Service) AnswersDue(ctx context.Context, overdueOnly bool, q sdk.ListQuery) (sdk.Page[DueAnswer], error) {
	now := s.Now()
	rows, err := listAnswersDue(ctx, s.db, now, overdueOnly, q)
	if err != nil {
		return sdk.Page[DueAnswer]{}, err
	}
	out := make([]DueAnswer, len(rows))
	for i, r := range rows {
		out[i] = DueAnswer{Motion: r.motionRow.motion(now), AssemblyName: r.AssemblyName, NeighbourhoodID: r.NeighbourhoodID}
	}
	pg := sdk.NewPage(out, q, dueAnswerKey)
	motions := make([]Motion, len(pg.Items))
	for i := range pg.Items {
		motions[i] = pg.Items[i].Motion
	}
	if err := fillSponsors(ctx, s.db, motions); err != nil {
		return sdk.Page[DueAnswer]{}, err
	}
	for i := range pg.Items {
		pg.Items[i].Sponsors = motions[i].Sponsors
	}
	return pg, nil
}

// MotionQuery narrows an assembly's motions: to one state, one kind (motion or the
// city's consultation), or those whose answer from the city is overdue.
type MotionQuery struct {
	State   string
	Kind    string
	Overdue bool
}

// ListMotions lists a page of an assembly's motions, oldest first, narrowed by f.
func (s *Service) ListMotions(ctx context.Context, assemblyID string, f MotionQuery, q sdk.ListQuery) (sdk.Page[Motion], error) {
	if f.State != "" && !slices.Contains(MotionStates, f.State) {
		return sdk.Page[Motion]{}, invalid("state", "must be one of "+strings.Join(MotionStates, ", "), sdk.RuleOneOf)
	}
	if f.Kind != "" && f.Kind != KindMotion && f.Kind != KindConsultation {
		return sdk.Page[Motion]{}, invalid("kind", "must be motion or consultation", sdk.RuleOneOf)
	}
	if _, err := s.Assembly(ctx, assemblyID); err != nil {
		return sdk.Page[Motion]{}, err
	}
	now := s.Now()
	mf := motionFilter{State: f.State, Kind: f.Kind}
	if f.Overdue {
		mf.OverdueAt = now
	}
	rows, err := listMotions(ctx, s.db, assemblyID, mf, q)
	if err != nil {
		return sdk.Page[Motion]{}, err
	}
	out := make([]Motion, len(rows))
	for i, r := range rows {
		out[i] = r.motion(now)
	}
	pg := sdk.NewPage(out, q, motionKey)
	return pg, fillSponsors(ctx, s.db, pg.Items)
}

// Which meetings a list shows.
const (
	MeetingsUpcoming = "upcoming" // not yet ended, cancelled ones included
	MeetingsPast     = "past"     // ended
)

// MeetingsWhen lists a page of an assembly's meetings, earliest first: all of them
// for when "", else the upcoming (not yet ended) or the past ones.
func (s *Service) MeetingsWhen(ctx context.Context, assemblyID, when string, q sdk.ListQuery) (sdk.Page[Meeting], error) {
	if when != "" && when != MeetingsUpcoming && when != MeetingsPast {
		return sdk.Page[Meeting]{}, invalid("when", "must be upcoming or past", sdk.RuleOneOf)
	}
	if _, err := s.Assembly(ctx, assemblyID); err != nil {
		return sdk.Page[Meeting]{}, err
	}
	now := s.Now()
	rows, err := listMeetingsWhen(ctx, s.db, assemblyID, when, now, q)
	if err != nil {
		return sdk.Page[Meeting]{}, err
	}
	ms := make([]Meeting, len(rows))
	for i, r := range rows {
		ms[i] = r.meeting(now)
	}
	pg := sdk.NewPage(ms, q, meetingKey)
	return pg, fillMeetings(ctx, s.db, pg.Items)
}

// Membership returns userID's membership of an assembly, whatever its status; found
// is false when they never joined or applied.
func (s *Service) Membership(ctx context.Context, assemblyID, userID string) (m Member, found bool, err error) {
	r, err := getMember(ctx, s.db, assemblyID, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return Member{}, false, nil
	}
	if err != nil {
		return Member{}, false, fmt.Errorf("find member: %w", err)
	}
	return r.member(), true, nil
}

// BallotStatus is what the voting booth shows a person about a vote: whether they may
// vote in it, and whether they have (never what they chose in a secret vote).
type BallotStatus struct {
	Eligible bool `json:"eligible" doc:"In the electorate frozen when the vote opened"`
	Voted    bool `json:"voted"`
	// CanChange: they voted and the vote lets a ballot be changed before the close.
	CanChange bool `json:"can_change"`
}

// MyBallot tells p where they stand in the vote on a motion.
func (s *Service) MyBallot(ctx context.Context, p sdk.Principal, assemblyID, motionID string) (BallotStatus, error) {
	if err := requireUser(p); err != nil {
		return BallotStatus{}, err
	}
	m, err := getMotion(ctx, s.db, assemblyID, motionID)
	if err != nil {
		return BallotStatus{}, err
	}
	var st BallotStatus
	if st.Eligible, err = inElectorate(ctx, s.db, m.ID, p.UserID); err != nil {
		return BallotStatus{}, err
	}
	var n int
	if err := get(ctx, s.db, &n, `SELECT COUNT(*) FROM voters WHERE motion_id = ? AND user_id = ?`, m.ID, p.UserID); err != nil {
		return BallotStatus{}, fmt.Errorf("check voter: %w", err)
	}
	st.Voted = n > 0
	st.CanChange = st.Voted && m.State == StateVoting && m.BallotChangeable
	return st, nil
}
