package assemblies

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/ical"
)

// PopoloExport is an assembly's motions and votes in the Popolo data specification
// (popoloproject.com): one Organization, its Motions, and a VoteEvent per closed vote
// with its Counts, and Votes only when the vote was named.
type PopoloExport struct {
	Organizations []PopoloOrganization `json:"organizations"`
	Motions       []PopoloMotion       `json:"motions"`
	VoteEvents    []PopoloVoteEvent    `json:"vote_events"`
}

// PopoloOrganization is the assembly.
type PopoloOrganization struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Classification string `json:"classification"`
	// AreaID is the neighbourhood.
	AreaID string `json:"area_id"`
}

// PopoloMotion is a Popolo Motion.
type PopoloMotion struct {
	ID             string `json:"id"`
	OrganizationID string `json:"organization_id"`
	CreatorID      string `json:"creator_id,omitempty"`
	Text           string `json:"text"`
	Classification string `json:"classification"`
	Date           string `json:"date"`
	Requirement    string `json:"requirement,omitempty"`
	// Result is "pass" or "fail" once decided.
	Result string `json:"result,omitempty"`
}

// PopoloVoteEvent is a Popolo VoteEvent.
type PopoloVoteEvent struct {
	ID             string        `json:"id"`
	MotionID       string        `json:"motion_id"`
	OrganizationID string        `json:"organization_id"`
	StartDate      string        `json:"start_date"`
	EndDate        string        `json:"end_date"`
	Result         string        `json:"result"`
	Counts         []PopoloCount `json:"counts"`
	Votes          []PopoloVote  `json:"votes,omitempty"`
}

// PopoloCount is a Popolo Count.
type PopoloCount struct {
	Option string `json:"option"`
	Value  int    `json:"value"`
}

// PopoloVote is a Popolo Vote: one named ballot.
type PopoloVote struct {
	VoteEventID string `json:"vote_event_id"`
	VoterID     string `json:"voter_id"`
	Option      string `json:"option"`
}

func popoloResult(outcome string) string {
	switch outcome {
	case StateAdopted:
		return "pass"
	case StateRejected, StateNoQuorum:
		return "fail"
	}
	return ""
}

// popoloTime writes a time as the export always has: RFC 3339 in UTC, to the
// microsecond, fixed width.
func popoloTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

func requirement(m motionRow) string {
	if m.Majority == "" {
		return ""
	}
	return m.Majority + " majority"
}

// Popolo exports an assembly's motions and closed votes. Counts are recounted from the
// stored ballots, not copied from the result, so the export checks the result.
func (s *Service) Popolo(ctx context.Context, assemblyID string) (PopoloExport, error) {
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return PopoloExport{}, err
	}
	rows, err := listMotions(ctx, s.db, a.ID, motionFilter{}, sdk.ListQuery{})
	if err != nil {
		return PopoloExport{}, err
	}
	out := PopoloExport{
		Organizations: []PopoloOrganization{{ID: a.ID, Name: a.Name, Classification: "assembly", AreaID: a.NeighbourhoodID}},
		Motions:       []PopoloMotion{},
		VoteEvents:    []PopoloVoteEvent{},
	}
	for _, m := range rows {
		if m.State == StateDraft {
			continue // a draft is the author's, not yet the assembly's
		}
		out.Motions = append(out.Motions, PopoloMotion{
			ID: m.ID, OrganizationID: a.ID, CreatorID: m.AuthorID, Text: m.Title + "\n\n" + m.Text,
			Classification: m.Kind, Date: popoloTime(m.CreatedAt.Time), Requirement: requirement(m), Result: popoloResult(m.Outcome),
		})
		if !m.VoteClosedAt.Valid {
			continue
		}
		c, err := tally(ctx, s.db, m.ID, m.Secrecy)
		if err != nil {
			return PopoloExport{}, err
		}
		ve := PopoloVoteEvent{
			ID: m.ID + "/vote", MotionID: m.ID, OrganizationID: a.ID, StartDate: popoloTime(m.VoteOpenedAt.Time),
			EndDate: popoloTime(m.VoteClosedAt.Time), Result: popoloResult(m.Outcome),
			Counts: []PopoloCount{{ChoiceYes, c.Yes}, {ChoiceNo, c.No}, {ChoiceAbstain, c.Abstain}},
		}
		if m.Secrecy == SecrecyNamed {
			ballots, err := namedBallots(ctx, s.db, m.ID)
			if err != nil {
				return PopoloExport{}, err
			}
			for _, b := range ballots {
				ve.Votes = append(ve.Votes, PopoloVote{VoteEventID: ve.ID, VoterID: b.UserID, Option: b.Choice})
			}
		}
		out.VoteEvents = append(out.VoteEvents, ve)
	}
	return out, nil
}

// Calendar renders an assembly's meetings as an RFC 5545 feed. DTSTAMP is the time a
// meeting last changed, so the feed is stable between changes and caches well.
func (s *Service) Calendar(ctx context.Context, assemblyID string) ([]byte, error) {
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return nil, err
	}
	all, err := s.Meetings(ctx, a.ID, sdk.ListQuery{})
	if err != nil {
		return nil, err
	}
	ms := all.Items
	cal := ical.Calendar{ProdID: "-//Kvarter//assemblies//EN", Name: a.Name}
	for _, m := range ms {
		var desc []string
		for i, it := range m.Agenda {
			desc = append(desc, strconv.Itoa(i+1)+". "+it.Title)
		}
		if m.Status == MeetingCancelled && m.CancelReason != "" {
			desc = append([]string{"Cancelled: " + m.CancelReason}, desc...)
		}
		ev := ical.Event{
			UID: m.ID + "@assemblies.kvarter", Stamp: m.UpdatedAt, Start: m.StartsAt, End: m.EndsAt,
			Summary: m.Title, Description: strings.Join(desc, "\n"), Location: m.Place, URL: m.OnlineURL,
			Status: ical.StatusConfirmed, Sequence: m.Sequence, LastModified: m.UpdatedAt,
		}
		if m.Status == MeetingCancelled {
			ev.Status = ical.StatusCancelled
		}
		cal.Events = append(cal.Events, ev)
	}
	return cal.Bytes()
}
