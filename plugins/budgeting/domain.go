package budgeting

import (
	"errors"
	"fmt"
	"time"

	"github.com/kvarter/kvarter/sdk"
)

// ruleError is a broken ballot rule: the message and the fields both name the rule,
// and the field at fault is named too.
func ruleError(rule, field, format string, args ...any) *sdk.Error {
	msg := fmt.Sprintf(format, args...)
	e := sdk.RuleError(sdk.CodeInvalid, rule, "ballot rule %q: %s", rule, msg)
	e.Fields[field] = msg
	return e
}

// ErrorCode returns the code of err, or sdk.CodeInternal when err is not an *sdk.Error.
func ErrorCode(err error) string {
	var e *sdk.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return sdk.CodeInternal
}

// Phase is a stage of a budgeting cycle. Phases only move forward, in Phases order; the
// optional support phase may be skipped.
type Phase string

// The phases of a cycle.
const (
	PhaseIdeas          Phase = "ideas"
	PhaseSupport        Phase = "support"
	PhaseReview         Phase = "review"
	PhaseVoting         Phase = "voting"
	PhaseResults        Phase = "results"
	PhaseImplementation Phase = "implementation"
)

// Phases lists the phases in order.
var Phases = []Phase{PhaseIdeas, PhaseSupport, PhaseReview, PhaseVoting, PhaseResults, PhaseImplementation}

// phaseNames are the names of Phases, in order.
func phaseNames() []string {
	out := make([]string, len(Phases))
	for i, p := range Phases {
		out[i] = string(p)
	}
	return out
}

// index returns the position of p in Phases, or -1.
func (p Phase) index() int {
	for i, q := range Phases {
		if q == p {
			return i
		}
	}
	return -1
}

// Ballot types.
const (
	BallotApproval   = "approval"
	BallotCumulative = "cumulative"
	BallotOrdinal    = "ordinal"
)

// BallotRules say what a valid ballot of a cycle looks like.
type BallotRules struct {
	// Type is approval, cumulative or ordinal.
	Type string `json:"type" max:"32" enum:"approval,cumulative,ordinal" doc:"approval: choose projects; cumulative: give points; ordinal: rank projects, best first."`
	// Min and Max bound the number of projects chosen (approval) or ranked (ordinal);
	// Max 0 means no upper bound. Min defaults to 1.
	Min int `json:"min" min:"0" doc:"The fewest projects a ballot chooses, ranks or gives points to; 0 means 1."`
	Max int `json:"max" min:"0" doc:"The most projects a ballot chooses, ranks or gives points to; 0 means no limit."`
	// MaxCost caps the total final cost of an approval ballot in minor units; 0 means
	// none. Equal to the budget it is a "knapsack" ballot.
	MaxCost int64 `json:"max_cost" min:"0" doc:"Approval ballots: the most the chosen projects may cost together, in minor units; 0 means no limit."`
	// Points is what a cumulative ballot distributes (at most, in total), and
	// MaxPerProject caps the points one project may get (0 means Points).
	Points        int64 `json:"points" min:"0" doc:"Cumulative ballots: the points a voter distributes."`
	MaxPerProject int64 `json:"max_per_project" min:"0" doc:"Cumulative ballots: the most points one project may get; 0 means points."`
	// Count is how ordinal rankings are counted, named on the cycle so everyone
	// knows the rule before voting: borda (what a new ordinal cycle gets) or
	// approvals (every ranked project one vote, as ordinal cycles opened before
	// issue 19 were counted, and still are).
	Count string `json:"count" max:"32" enum:",borda,approvals" doc:"Ordinal ballots: borda (a ranking of k projects gives the first k points, the next k-1, ... the last 1; the default) or approvals (each ranked project one vote). Empty for other ballots."`
}

// How ordinal ballots are counted (BallotRules.Count).
const (
	CountBorda     = "borda"
	CountApprovals = "approvals"
)

// Cycle is one participatory budget: one neighbourhood, one pot of money, one ballot.
// A city-wide budget with a pot per district is one cycle per district sharing a
// ParentID (the ID of a grouping cycle), which keeps every rule per neighbourhood.
type Cycle struct {
	ID              string      `json:"id" format:"uuid"`
	ParentID        string      `json:"parent_id" doc:"The grouping cycle this one belongs to, or empty."`
	NeighbourhoodID string      `json:"neighbourhood_id"`
	Name            string      `json:"name"`
	Budget          int64       `json:"budget" doc:"In minor units of currency."`
	Currency        string      `json:"currency" doc:"ISO 4217 code."`
	Ballot          BallotRules `json:"ballot"`
	// SupportTopN is how many ideas go forward from the support phase; 0 means all.
	SupportTopN int `json:"support_top_n" doc:"How many ideas go forward from the support phase; 0 means all."`
	// Simulation cycles accept imported .pb files and never hold real votes.
	Simulation bool `json:"simulation" doc:"Takes an imported .pb file instead of votes."`
	// MESIntegral starts the Method of Equal Shares' add1 completion from a whole
	// currency unit per voter, floor(budget/voters), as equalshares.net does by
	// default; false starts it from budget/voters exactly.
	MESIntegral bool  `json:"mes_integral" doc:"MES add1 starts from a whole currency unit per voter (equalshares.net's default)."`
	Phase       Phase `json:"phase" enum:"ideas,support,review,voting,results,implementation"`
	// Schedule gives the start of each scheduled phase; the background tick moves the
	// cycle into the latest phase whose start has passed.
	Schedule map[Phase]time.Time `json:"schedule" doc:"When scheduled phases start, by phase."`
	// Country is where the cycle runs, as a Pabulib export names it.
	Country string `json:"country" doc:"The country, in English (a Pabulib export's country); empty when not given."`
	// VotingBegan and VotingEnded are when voting opened and closed; nil until then.
	VotingBegan *time.Time `json:"voting_began" doc:"When voting opened; null until it did."`
	VotingEnded *time.Time `json:"voting_ended" doc:"When voting closed; null until it did."`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// Proposal statuses.
const (
	StatusSubmitted      = "submitted"       // waiting for review
	StatusNotShortlisted = "not_shortlisted" // fell outside the support phase's top N
	StatusFeasible       = "feasible"        // on the ballot
	StatusInfeasible     = "infeasible"      // rejected with a public reason
	StatusMerged         = "merged"          // a duplicate of MergedInto
)

// Implementation statuses of selected projects, in order.
const (
	ImplPlanned    = "planned"
	ImplInProgress = "in_progress"
	ImplDone       = "done"
)

var implOrder = map[string]int{ImplPlanned: 0, ImplInProgress: 1, ImplDone: 2}

// Proposal is an idea a resident submits; once feasible it is a project on the ballot.
type Proposal struct {
	ID      string `json:"id" format:"uuid"`
	CycleID string `json:"cycle_id" format:"uuid"`
	// AuthorID is empty once the author's account is deleted, and in public answers
	// about an anonymous proposal (see Public).
	AuthorID string `json:"author_id" doc:"Empty once the author deleted their account, and for an anonymous proposal except in answers to its author."`
	// Anonymous proposals are shown without their author.
	Anonymous   bool   `json:"anonymous" doc:"Shown without its author."`
	Title       string `json:"title"`
	Description string `json:"description"`
	Category    string `json:"category"`
	Location    string `json:"location"`
	// Cost is the author's estimate; FinalCost the reviewed cost (0 until feasible).
	Cost      int64  `json:"cost" doc:"The author's estimate, in minor units."`
	FinalCost int64  `json:"final_cost" doc:"The reviewed cost in minor units; 0 until feasible."`
	Status    string `json:"status" enum:"submitted,not_shortlisted,feasible,infeasible,merged"`
	// Reason is the public reason a proposal is infeasible.
	Reason     string `json:"reason" doc:"Why it is infeasible, in public."`
	MergedInto string `json:"merged_into" doc:"The proposal this one duplicates, when merged."`
	Supports   int64  `json:"supports" doc:"Residents who supported it in the support phase."`
	// Implementation is the status of a selected project; empty otherwise.
	Implementation string   `json:"implementation" enum:",planned,in_progress,done" doc:"A funded project's progress; empty for the others."`
	Updates        []Update `json:"updates"`
	// Attachments are the photos and documents of the proposal itself, oldest first;
	// an update's photos are on the update.
	Attachments []Attachment `json:"attachments" doc:"Photos and PDF documents the author or the city added to the proposal, oldest first. Empty in lists."`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

// Public is p as anyone may see it: an anonymous proposal without its author. The
// routes answer with it; a page shows the author only when Anonymous is false.
func (p *Proposal) Public() *Proposal {
	if !p.Anonymous || p.AuthorID == "" {
		return p
	}
	q := *p
	q.AuthorID = ""
	return &q
}

// Update is a dated public note on a selected project's implementation.
type Update struct {
	Status string    `json:"status" enum:"planned,in_progress,done"`
	Note   string    `json:"note"`
	At     time.Time `json:"at"`
	// Photos show the work as the update reports it.
	Photos []Attachment `json:"photos" doc:"Photos of the work, with their text alternatives."`
	id     string       // the stored row's, which its photos name
}

// Kinds of attachment.
const (
	AttachPhoto    = "photo"    // a JPEG or PNG image, shown with its text alternative
	AttachDocument = "document" // a PDF, offered as a download under its title
)

// Attachment is a photo or a PDF document on a proposal or on an implementation
// update. The host received and checked the file (and stripped a photo's metadata);
// the plugin keeps only the upload's id, which is the file's address.
type Attachment struct {
	ID   string `json:"id" format:"uuid"`
	Kind string `json:"kind" enum:"photo,document"`
	// Text is a photo's text alternative (what it shows, for those who cannot see
	// it) or a document's title (the words of its link).
	Text    string    `json:"text" doc:"A photo's text alternative, or a document's title."`
	URL     string    `json:"url" doc:"Where the host serves the file."`
	AddedAt time.Time `json:"added_at"`
}

// Ballot is what one voter chose, with no trace of who the voter was.
type Ballot struct {
	// Projects lists chosen proposals (approval), or ranks them (ordinal, best first).
	Projects []string `json:"projects,omitempty" max:"64" doc:"Approval: the chosen proposals' IDs; ordinal: ranked, best first."`
	// Points maps proposal IDs to points (cumulative).
	Points map[string]int64 `json:"points,omitempty" min:"0" doc:"Cumulative: points by proposal ID."`
}
