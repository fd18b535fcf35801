package assemblies

import (
	"fmt"
	"time"

	"github.com/kvarter/kvarter/sdk"
)

// Majority rules, as stored on an assembly and frozen on a vote.
const (
	// MajoritySimple adopts when yes > no; abstentions do not count either way.
	MajoritySimple = "simple"
	// MajorityAbsolute adopts when yes > half of all ballots cast, abstentions included.
	MajorityAbsolute = "absolute"
	// MajorityTwoThirds adopts when yes ≥ two thirds of yes+no (abstentions do not
	// count), with at least one yes.
	MajorityTwoThirds = "two_thirds"
)

// Ballot secrecy.
const (
	SecrecyNamed  = "named"
	SecrecySecret = "secret"
)

// Membership modes.
const (
	MembershipOpen     = "open"
	MembershipApproval = "approval"
)

// Ballot choices.
const (
	ChoiceYes     = "yes"
	ChoiceNo      = "no"
	ChoiceAbstain = "abstain"
)

// Choices are the options of every vote, in the order exports list them.
var Choices = []string{ChoiceYes, ChoiceNo, ChoiceAbstain}

// Member statuses.
const (
	MemberPending  = "pending"
	MemberActive   = "active"
	MemberRejected = "rejected"
	MemberLeft     = "left"
	MemberRemoved  = "removed"
)

// Member kinds: a resident of the neighbourhood or an organisation's delegate.
const (
	KindResident = "resident"
	KindDelegate = "delegate"
)

// Positions in an assembly.
const (
	PositionChair     = "chair"
	PositionViceChair = "vice_chair"
	PositionSecretary = "secretary"
	PositionMember    = "member"
)

// Motion kinds.
const (
	KindMotion       = "motion"
	KindConsultation = "consultation"
)

// Motion states.
const (
	StateDraft     = "draft"
	StateTabled    = "tabled"
	StateVoting    = "voting"
	StateAdopted   = "adopted"
	StateRejected  = "rejected"
	StateNoQuorum  = "no_quorum"
	StateWithdrawn = "withdrawn"
)

// Answer statuses of an adopted motion on its way through the city.
const (
	AnswerSubmitted    = "submitted"
	AnswerAcknowledged = "acknowledged"
	AnswerAnswered     = "answered"
	AnswerImplemented  = "implemented"
)

// The city's decisions on an adopted motion.
const (
	DecisionAccepted       = "accepted"
	DecisionPartlyAccepted = "partly_accepted"
	DecisionDeclined       = "declined"
)

// Meeting and minutes statuses.
const (
	MeetingScheduled = "scheduled"
	MeetingCancelled = "cancelled"

	MinutesNone      = "none"
	MinutesDraft     = "draft"
	MinutesApproved  = "approved"
	MinutesPublished = "published"
)

// fieldErrors collects invalid fields so a caller sees every problem at once.
type fieldErrors map[string]string

func (f fieldErrors) add(field, msg string) { f[field] = msg }

func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	msg := "invalid input"
	for _, k := range sortedKeys(f) {
		msg = k + ": " + f[k]
		break
	}
	if len(f) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(f)-1)
	}
	return &sdk.Error{Code: sdk.CodeInvalid, Message: msg, Fields: f}
}

// Rules are an assembly's voting and membership rules. Votes copy them when they open,
// so changing an assembly's rules never changes a vote in progress.
type Rules struct {
	// QuorumPercent is the share of the electorate that must cast a ballot (1–100);
	// zero when QuorumAbsolute is used instead.
	QuorumPercent int `json:"quorum_percent" min:"0" max:"100"`
	// QuorumAbsolute is a number of ballots that must be cast; zero when
	// QuorumPercent is used.
	QuorumAbsolute   int    `json:"quorum_absolute" min:"0" max:"1000000"`
	Majority         string `json:"majority" max:"32"`
	Secrecy          string `json:"secrecy" max:"32"`
	Membership       string `json:"membership" max:"32"`
	BallotChangeable bool   `json:"ballot_changeable"`
	// TermMonths is how long a membership lasts; zero means no fixed term.
	TermMonths int `json:"term_months" min:"0" max:"1200"`
	// OrgSeats is how many organisation delegates the assembly seats.
	OrgSeats int `json:"org_seats" min:"0" max:"10000"`
}

// Assembly is a neighbourhood assembly.
type Assembly struct {
	ID              string    `json:"id"`
	NeighbourhoodID string    `json:"neighbourhood_id"`
	Name            string    `json:"name"`
	Charter         string    `json:"charter"`
	CreatedAt       time.Time `json:"created_at"`
	Rules
	// Members is the number of active members.
	Members int `json:"members"`
	// OverdueAnswers counts adopted motions the city has not answered in time.
	OverdueAnswers int `json:"overdue_answers"`
}

// Member is a person's membership of an assembly.
type Member struct {
	UserID         string     `json:"user_id"`
	DisplayName    string     `json:"display_name"`
	Kind           string     `json:"kind"`
	OrganisationID string     `json:"organisation_id,omitempty"`
	Status         string     `json:"status"`
	Position       string     `json:"position"`
	TermStart      *time.Time `json:"term_start,omitempty"`
	TermEnd        *time.Time `json:"term_end,omitempty"`
	JoinedAt       *time.Time `json:"joined_at,omitempty"`
	EndReason      string     `json:"end_reason,omitempty"`
}

// AgendaItem is one item of a meeting's ordered agenda.
type AgendaItem struct {
	Title    string `json:"title" max:"300"`
	MotionID string `json:"motion_id,omitempty" max:"64"`
}

// Meeting is a meeting of an assembly.
type Meeting struct {
	ID            string       `json:"id"`
	AssemblyID    string       `json:"assembly_id"`
	Title         string       `json:"title"`
	StartsAt      time.Time    `json:"starts_at"`
	EndsAt        time.Time    `json:"ends_at"`
	Place         string       `json:"place"`
	OnlineURL     string       `json:"online_url"`
	Status        string       `json:"status"`
	CancelReason  string       `json:"cancel_reason,omitempty"`
	Agenda        []AgendaItem `json:"agenda"`
	Attendance    []string     `json:"attendance"`
	MinutesStatus string       `json:"minutes_status"`
	// Minutes are shown to everyone once published, and to the assembly's officers
	// before.
	Minutes   string    `json:"minutes,omitempty"`
	Sequence  int       `json:"sequence"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Counts are the ballots of a vote per option.
type Counts struct {
	Yes     int `json:"yes"`
	No      int `json:"no"`
	Abstain int `json:"abstain"`
}

// Total is the turnout: every ballot, abstentions included.
func (c Counts) Total() int { return c.Yes + c.No + c.Abstain }

// Vote is the vote on a motion. Counts stay hidden until the close, so that watching
// them tick cannot reveal how the latest voter voted.
type Vote struct {
	Secrecy          string     `json:"secrecy"`
	Majority         string     `json:"majority"`
	QuorumPercent    int        `json:"quorum_percent"`
	QuorumAbsolute   int        `json:"quorum_absolute"`
	BallotChangeable bool       `json:"ballot_changeable"`
	MeetingID        string     `json:"meeting_id,omitempty"`
	Electorate       int        `json:"electorate"`
	OpenedAt         time.Time  `json:"opened_at"`
	ClosedAt         *time.Time `json:"closed_at,omitempty"`
	Outcome          string     `json:"outcome,omitempty"`
	Counts           *Counts    `json:"counts,omitempty"`
}

// Answer is the city's handling of an adopted motion.
type Answer struct {
	Status     string     `json:"status"`
	DueAt      time.Time  `json:"due_at"`
	Overdue    bool       `json:"overdue"`
	Decision   string     `json:"decision,omitempty"`
	Reasoning  string     `json:"reasoning,omitempty"`
	AnsweredBy string     `json:"answered_by,omitempty"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
}

// TimelineEntry is one public step in a motion's life.
type TimelineEntry struct {
	At      time.Time      `json:"at"`
	Kind    string         `json:"kind"`
	ActorID string         `json:"actor_id,omitempty"`
	Detail  map[string]any `json:"detail,omitempty"`
}

// Motion is an advisory decision of an assembly, or the city's request for advice.
type Motion struct {
	ID          string          `json:"id"`
	AssemblyID  string          `json:"assembly_id"`
	Kind        string          `json:"kind"`
	Title       string          `json:"title"`
	Text        string          `json:"text"`
	AuthorID    string          `json:"author_id,omitempty"`
	State       string          `json:"state"`
	AdviceDueAt *time.Time      `json:"advice_due_at,omitempty"`
	Sponsors    []string        `json:"sponsors"`
	Vote        *Vote           `json:"vote,omitempty"`
	Answer      *Answer         `json:"answer,omitempty"`
	Timeline    []TimelineEntry `json:"timeline,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// Decide applies the rules to a closed vote: first the quorum on turnout (abstentions
// count as turnout), then the majority. It is pure so tests can run every rule directly.
func Decide(majority string, quorumPercent, quorumAbsolute, electorate int, c Counts) string {
	turnout := c.Total()
	switch {
	case turnout == 0:
		return StateNoQuorum
	case quorumAbsolute > 0 && turnout < quorumAbsolute:
		return StateNoQuorum
	// turnout/electorate ≥ percent/100, in integers so 50% of 9 needs 5 (4.5 rounded up).
	case quorumPercent > 0 && turnout*100 < quorumPercent*electorate:
		return StateNoQuorum
	}
	adopted := false
	switch majority {
	case MajoritySimple:
		adopted = c.Yes > c.No
	case MajorityAbsolute:
		adopted = 2*c.Yes > turnout
	case MajorityTwoThirds:
		adopted = c.Yes > 0 && 3*c.Yes >= 2*(c.Yes+c.No)
	}
	if adopted {
		return StateAdopted
	}
	return StateRejected
}
