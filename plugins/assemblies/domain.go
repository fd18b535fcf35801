package assemblies

import (
	"fmt"
	"maps"
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

// MotionStates are the states a motion list can be filtered by.
var MotionStates = []string{StateDraft, StateTabled, StateVoting, StateAdopted, StateRejected, StateNoQuorum, StateWithdrawn}

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
	// A meeting is scheduled until it begins and held from then on (attendance and
	// minutes are recorded only then); the stored status says only whether it was
	// cancelled, the clock says the rest (meetingRow.status).
	MeetingScheduled = "scheduled"
	MeetingHeld      = "held"
	MeetingCancelled = "cancelled"

	// How a meeting is attended: in a room, through its online link, or both.
	ModeInPerson = "in_person"
	ModeOnline   = "online"
	ModeHybrid   = "hybrid"

	MinutesNone      = "none"
	MinutesDraft     = "draft"
	MinutesApproved  = "approved"
	MinutesPublished = "published"
)

// Rules named in fields.rule when input is well-formed but breaks a rule (422
// invalid), besides the SDK's common ones (sdk.RuleRequired, sdk.RuleOneOf,
// sdk.RuleExists, sdk.RuleFormat, and the limits sdk.CheckInput enforces,
// sdk.RuleMaxLength and sdk.RuleRange, which the plugin's own range checks name too).
const (
	// RuleEitherOr: exactly one of two fields (quorum_percent, quorum_absolute).
	RuleEitherOr = "either_or"
	RuleAfter    = "after"  // a time that must come after another does not
	RuleFuture   = "future" // a deadline that is not in the future
	// RuleActive: the value names an archived neighbourhood, a cancelled meeting or
	// someone who is not an active member.
	RuleActive = "active"
	// RuleConsultationOnly: a deadline for advice belongs to a consultation only.
	RuleConsultationOnly = "consultation_only"
	// RuleOnlineOnly: remote attendance at a meeting that has no online link.
	RuleOnlineOnly = "online_only"
	// RuleOnce: the same person twice in one list (in the room and online).
	RuleOnce = "once"
	// RuleStarted: a vote held at a meeting that has not begun.
	RuleStarted = "started"
)

// fieldErrors collects invalid fields so a caller sees every problem at once; the
// first rule broken is the error's fields.rule.
type fieldErrors struct {
	fields      map[string]string
	first, rule string
}

func (f *fieldErrors) add(field, problem, rule string) {
	if f.fields == nil {
		f.fields = map[string]string{}
	}
	if _, ok := f.fields[field]; ok {
		return
	}
	f.fields[field] = problem
	if f.first == "" {
		f.first, f.rule = field, rule
	}
}

func (f *fieldErrors) err() error {
	if len(f.fields) == 0 {
		return nil
	}
	msg := f.first + ": " + f.fields[f.first]
	if n := len(f.fields) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more)", n)
	}
	fields := maps.Clone(f.fields)
	fields["rule"] = f.rule
	return &sdk.Error{Code: sdk.CodeInvalid, Message: msg, Fields: fields}
}

// invalid reports one field that breaks rule (422).
func invalid(field, problem, rule string) error {
	var f fieldErrors
	f.add(field, problem, rule)
	return f.err()
}

// Rules are an assembly's voting and membership rules. Votes copy them when they open,
// so changing an assembly's rules never changes a vote in progress.
type Rules struct {
	// QuorumPercent is the share of the electorate that must cast a ballot (1–100);
	// zero when QuorumAbsolute is used instead.
	QuorumPercent int `json:"quorum_percent" min:"0" max:"100" doc:"Share of the electorate (1–100) that must cast a ballot; 0 when quorum_absolute is set" example:"50"`
	// QuorumAbsolute is a number of ballots that must be cast; zero when
	// QuorumPercent is used.
	QuorumAbsolute   int    `json:"quorum_absolute" min:"0" max:"1000000" doc:"Ballots that must be cast; 0 when quorum_percent is set"`
	Majority         string `json:"majority" max:"32" enum:"simple,absolute,two_thirds" doc:"simple: yes > no; absolute: yes > half of all ballots; two_thirds: yes ≥ two thirds of yes + no (simple by default)"`
	Secrecy          string `json:"secrecy" max:"32" enum:"named,secret" doc:"How votes are cast unless a vote says otherwise (named by default)"`
	Membership       string `json:"membership" max:"32" enum:"open,approval" doc:"open: residents join at once; approval: an officer approves each application (open by default)"`
	BallotChangeable bool   `json:"ballot_changeable" doc:"Whether a voter may change their ballot before the close"`
	// TermMonths is how long a membership lasts; zero means no fixed term.
	TermMonths int `json:"term_months" min:"0" max:"1200" doc:"Length of a membership in months; 0 for no fixed term"`
	// OrgSeats is how many organisation delegates the assembly seats.
	OrgSeats int `json:"org_seats" min:"0" max:"10000" doc:"Seats for delegates of organisations"`
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
	Kind           string     `json:"kind" enum:"resident,delegate"`
	OrganisationID string     `json:"organisation_id,omitempty" doc:"The organisation a delegate sits for"`
	Status         string     `json:"status" enum:"pending,active,rejected,left,removed"`
	Position       string     `json:"position" enum:"chair,vice_chair,secretary,member"`
	TermStart      *time.Time `json:"term_start,omitempty"`
	TermEnd        *time.Time `json:"term_end,omitempty"`
	// AppliedAt is when the person applied or, in an open assembly, joined; member
	// lists are in this order.
	AppliedAt time.Time  `json:"applied_at"`
	JoinedAt  *time.Time `json:"joined_at,omitempty"`
	EndReason string     `json:"end_reason,omitempty"`
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
	Status        string       `json:"status" enum:"scheduled,held,cancelled" doc:"scheduled until it begins, held from then on, or cancelled"`
	Mode          string       `json:"mode" enum:"in_person,online,hybrid" doc:"in_person: a place only; online: a link only; hybrid: both"`
	CancelReason  string       `json:"cancel_reason,omitempty"`
	Agenda        []AgendaItem `json:"agenda" nullable:"false"`
	Attendance    []string     `json:"attendance" nullable:"false" doc:"User IDs of the members recorded present, in the room or online"`
	Remote        []string     `json:"remote_attendance" nullable:"false" doc:"Those of attendance who took part online"`
	MinutesStatus string       `json:"minutes_status" enum:"none,draft,approved,published"`
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
	Secrecy          string     `json:"secrecy" enum:"named,secret"`
	Majority         string     `json:"majority" enum:"simple,absolute,two_thirds"`
	QuorumPercent    int        `json:"quorum_percent"`
	QuorumAbsolute   int        `json:"quorum_absolute"`
	BallotChangeable bool       `json:"ballot_changeable"`
	MeetingID        string     `json:"meeting_id,omitempty"`
	Electorate       int        `json:"electorate" doc:"How many members may vote, frozen when the vote opened"`
	OpenedAt         time.Time  `json:"opened_at"`
	ClosedAt         *time.Time `json:"closed_at,omitempty"`
	Outcome          string     `json:"outcome,omitempty" enum:"adopted,rejected,no_quorum"`
	Counts           *Counts    `json:"counts,omitempty" doc:"Ballots per option, shown once the vote is closed"`
}

// Answer is the city's handling of an adopted motion.
type Answer struct {
	Status     string     `json:"status" enum:"submitted,acknowledged,answered,implemented"`
	DueAt      time.Time  `json:"due_at"`
	Overdue    bool       `json:"overdue" doc:"Unanswered past the deadline, or answered after it"`
	Decision   string     `json:"decision,omitempty" enum:"accepted,partly_accepted,declined"`
	Reasoning  string     `json:"reasoning,omitempty"`
	AnsweredBy string     `json:"answered_by,omitempty"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
}

// TimelineEntry is one public step in a motion's life.
type TimelineEntry struct {
	At      time.Time      `json:"at"`
	Kind    string         `json:"kind" example:"vote_opened"`
	ActorID string         `json:"actor_id,omitempty"`
	Detail  map[string]any `json:"detail,omitempty"`
}

// Motion is an advisory decision of an assembly, or the city's request for advice.
type Motion struct {
	ID          string          `json:"id"`
	AssemblyID  string          `json:"assembly_id"`
	Kind        string          `json:"kind" enum:"motion,consultation"`
	Title       string          `json:"title"`
	Text        string          `json:"text"`
	AuthorID    string          `json:"author_id,omitempty"`
	State       string          `json:"state" enum:"draft,tabled,voting,adopted,rejected,no_quorum,withdrawn"`
	AdviceDueAt *time.Time      `json:"advice_due_at,omitempty"`
	Sponsors    []string        `json:"sponsors" nullable:"false"`
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
