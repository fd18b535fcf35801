package assemblies

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/ical"
)

// PopoloExport is an assembly's motions and votes in the Popolo data specification
// (popoloproject.com): one Organization in its Area (the neighbourhood), its Motions,
// a VoteEvent per closed vote with its Counts, and Votes only when the vote was named.
// Every id a motion, vote or organization refers to is in the export: the Persons
// who tabled motions or cast named votes (and, where the city shows member lists,
// the members, with their Memberships), and the Area.
type PopoloExport struct {
	Persons       []PopoloPerson       `json:"persons"`
	Organizations []PopoloOrganization `json:"organizations"`
	Memberships   []PopoloMembership   `json:"memberships"`
	Areas         []PopoloArea         `json:"areas"`
	Motions       []PopoloMotion       `json:"motions"`
	VoteEvents    []PopoloVoteEvent    `json:"vote_events"`
}

// PopoloPerson is a Popolo Person: someone a motion, vote or membership names.
type PopoloPerson struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// PopoloOrganization is the assembly.
type PopoloOrganization struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Classification string `json:"classification"`
	// AreaID is the neighbourhood.
	AreaID string `json:"area_id"`
}

// PopoloMembership is a Popolo Membership: an active member, with their position as
// the role and, for an organisation's delegate, the organisation they sit for.
type PopoloMembership struct {
	PersonID       string `json:"person_id"`
	OrganizationID string `json:"organization_id"`
	Role           string `json:"role"`
	StartDate      string `json:"start_date,omitempty"`
	OnBehalfOfID   string `json:"on_behalf_of_id,omitempty"`
}

// PopoloArea is a Popolo Area: the assembly's neighbourhood.
type PopoloArea struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Classification string `json:"classification"`
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
	// Result is "pass", "fail" or "no_quorum" once decided.
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

// popoloResult maps an outcome to Popolo's result: pass and fail as the
// specification names them, and no_quorum as itself, because a vote that did not
// reach its quorum decided nothing, which "fail" (rejected) would misreport.
func popoloResult(outcome string) string {
	switch outcome {
	case StateAdopted:
		return "pass"
	case StateRejected:
		return "fail"
	case StateNoQuorum:
		return StateNoQuorum
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

// formerPerson names a person the platform no longer knows (an erased account, whose
// named ballots were re-keyed to a pseudonym).
const formerPerson = "Former member"

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
		Memberships:   []PopoloMembership{},
		Motions:       []PopoloMotion{},
		VoteEvents:    []PopoloVoteEvent{},
	}
	people := []string{}
	if s.MemberListPublic {
		members, err := listMembers(ctx, s.db, a.ID, []string{MemberActive}, sdk.ListQuery{})
		if err != nil {
			return PopoloExport{}, err
		}
		for _, m := range members {
			pm := PopoloMembership{PersonID: m.UserID, OrganizationID: a.ID, Role: m.Position, OnBehalfOfID: m.OrganisationID}
			if m.JoinedAt.Valid {
				pm.StartDate = m.JoinedAt.Time.UTC().Format(time.DateOnly)
			}
			out.Memberships = append(out.Memberships, pm)
			people = append(people, m.UserID)
		}
	}
	for _, m := range rows {
		if m.State == StateDraft {
			continue // a draft is the author's, not yet the assembly's
		}
		out.Motions = append(out.Motions, PopoloMotion{
			ID: m.ID, OrganizationID: a.ID, CreatorID: m.AuthorID, Text: m.Title + "\n\n" + m.Text,
			Classification: m.Kind, Date: popoloTime(m.CreatedAt.Time), Requirement: requirement(m), Result: popoloResult(m.Outcome),
		})
		if m.AuthorID != "" {
			people = append(people, m.AuthorID)
		}
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
				people = append(people, b.UserID)
			}
		}
		out.VoteEvents = append(out.VoteEvents, ve)
	}
	if out.Persons, err = s.popoloPersons(ctx, people); err != nil {
		return PopoloExport{}, err
	}
	area := PopoloArea{ID: a.NeighbourhoodID, Name: a.NeighbourhoodID, Classification: "neighbourhood"}
	nbhs, err := s.host.Neighbourhoods(ctx, []string{a.NeighbourhoodID})
	if err != nil {
		return PopoloExport{}, fmt.Errorf("find neighbourhood: %w", err)
	}
	if len(nbhs) == 1 {
		area.Name = nbhs[0].Name
	}
	out.Areas = []PopoloArea{area}
	return out, nil
}

// popoloPersons names each of ids once, in order of id, from the host's users.
func (s *Service) popoloPersons(ctx context.Context, ids []string) ([]PopoloPerson, error) {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make([]PopoloPerson, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	users, err := s.host.Users(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("find persons: %w", err)
	}
	names := make(map[string]string, len(users))
	for _, u := range users {
		names[u.ID] = u.DisplayName
	}
	for i, id := range ids {
		out[i] = PopoloPerson{ID: id, Name: names[id]}
		if out[i].Name == "" {
			out[i].Name = formerPerson
		}
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
