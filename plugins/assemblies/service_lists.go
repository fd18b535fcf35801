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
	// Awaiting keeps the adopted motions still waiting for the city's answer, overdue
	// or not (Motion.Answer.Overdue marks the late ones).
	Awaiting bool
	// Viewer is who asks: drafts are listed to the assembly's members and officers,
	// and each to its author; to no one else (the zero Principal: anyone).
	Viewer sdk.Principal
}

// ListMotions lists a page of an assembly's motions, oldest first, narrowed by f.
func (s *Service) ListMotions(ctx context.Context, assemblyID string, f MotionQuery, q sdk.ListQuery) (sdk.Page[Motion], error) {
	if f.State != "" && !slices.Contains(MotionStates, f.State) {
		return sdk.Page[Motion]{}, invalid("state", "must be one of "+strings.Join(MotionStates, ", "), sdk.RuleOneOf)
	}
	if f.Kind != "" && f.Kind != KindMotion && f.Kind != KindConsultation {
		return sdk.Page[Motion]{}, invalid("kind", "must be motion or consultation", sdk.RuleOneOf)
	}
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return sdk.Page[Motion]{}, err
	}
	now := s.Now()
	mf := motionFilter{State: f.State, Kind: f.Kind, Awaiting: f.Awaiting}
	if mf.HideDrafts, err = s.hidesDrafts(ctx, a, f.Viewer); err != nil {
		return sdk.Page[Motion]{}, err
	}
	mf.DraftsOf = f.Viewer.UserID
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
	MeetingsUpcoming = "upcoming" // not yet begun (scheduled, or cancelled before)
	MeetingsPast     = "past"     // begun: held, or cancelled and its time gone
)

// MeetingsWhen lists a page of an assembly's meetings, earliest first: all of them
// for when "", else the upcoming (not yet begun) or the past ones (begun: a meeting
// is held, with its attendance and minutes, from its start).
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

// NeighbourhoodSummary is what a neighbourhood's page shows of its assemblies, one card
// each: the next meeting, the votes open now, and the city's latest answers.
type NeighbourhoodSummary struct {
	NextMeeting   *Meeting `json:"next_meeting,omitempty"`
	OpenVotes     []Motion `json:"open_votes" nullable:"false"`
	LatestAnswers []Motion `json:"latest_answers" nullable:"false"`
}

// summaryItems is how many open votes and answers a summary shows.
const summaryItems = 5

// Summary reads the cards of a neighbourhood's assemblies: the next meeting not yet
// begun and not cancelled, up to five open votes (latest opened first) and the five
// latest answers from the city.
func (s *Service) Summary(ctx context.Context, neighbourhoodID string) (NeighbourhoodSummary, error) {
	now := s.Now()
	out := NeighbourhoodSummary{OpenVotes: []Motion{}, LatestAnswers: []Motion{}}
	var next []meetingRow
	if err := sel(ctx, s.db, &next, `SELECT `+prefixed("m", meetingCols)+` FROM meetings m JOIN assemblies a ON a.id = m.assembly_id
		WHERE a.neighbourhood_id = ? AND m.status <> 'cancelled' AND m.starts_at > ? ORDER BY m.starts_at, m.id LIMIT 1`,
		neighbourhoodID, store.Micros(now)); err != nil {
		return out, fmt.Errorf("next meeting: %w", err)
	}
	if len(next) == 1 {
		ms := []Meeting{next[0].meeting(now)}
		if err := fillMeetings(ctx, s.db, ms); err != nil {
			return out, err
		}
		out.NextMeeting = &ms[0]
	}
	for _, part := range []struct {
		into  *[]Motion
		where string
	}{
		{&out.OpenVotes, `o.state = 'voting' ORDER BY o.vote_opened_at DESC, o.id DESC`},
		{&out.LatestAnswers, `o.answered_at IS NOT NULL ORDER BY o.answered_at DESC, o.id DESC`},
	} {
		var rows []motionRow
		if err := sel(ctx, s.db, &rows, `SELECT `+prefixed("o", motionCols)+` FROM motions o JOIN assemblies a ON a.id = o.assembly_id
			WHERE a.neighbourhood_id = ? AND `+part.where+` LIMIT ?`, neighbourhoodID, summaryItems); err != nil {
			return out, fmt.Errorf("neighbourhood summary: %w", err)
		}
		for _, r := range rows {
			*part.into = append(*part.into, r.motion(now))
		}
		if err := fillSponsors(ctx, s.db, *part.into); err != nil {
			return out, err
		}
	}
	return out, nil
}

// hidesDrafts tells whether who may not see an assembly's drafts (other than their
// own): everyone but its active members and officers.
func (s *Service) hidesDrafts(ctx context.Context, a Assembly, who sdk.Principal) (bool, error) {
	r, err := s.roleIn(ctx, a, who)
	return !r.Member && !r.Officer, err
}
