package budgeting

// Events the plugin publishes and the one it consumes. Each has one payload type,
// documented field by field in README.md ("Events").
const (
	// EventPhaseChanged: a cycle moved to a later phase (PhaseChanged).
	EventPhaseChanged = "budgeting.phase.changed"
	// EventResultsPublished: a cycle's result was tallied and published
	// (ResultsPublished).
	EventResultsPublished = "budgeting.results.published"
	// EventProjectUpdated: a selected project got a dated implementation update
	// (ProjectUpdated).
	EventProjectUpdated = "budgeting.project.updated"
)

// PhaseChanged is the payload of budgeting.phase.changed, written in the transaction
// that moves the cycle (by an officer, the schedule tick, or an import).
type PhaseChanged struct {
	// CycleID is the cycle that moved.
	CycleID string `json:"cycle_id"`
	// NeighbourhoodID is the cycle's neighbourhood.
	NeighbourhoodID string `json:"neighbourhood_id"`
	// From is the phase the cycle left, To the phase it is in now; phases only move
	// forward, and may skip some (the support phase, or phases a late tick passed).
	From Phase `json:"from"`
	To   Phase `json:"to"`
}

// ResultsPublished is the payload of budgeting.results.published, written in the
// transaction that stores the result.
type ResultsPublished struct {
	// CycleID is the tallied cycle; GET /cycles/{id}/results has the whole result.
	CycleID string `json:"cycle_id"`
	// NeighbourhoodID is the cycle's neighbourhood.
	NeighbourhoodID string `json:"neighbourhood_id"`
	// Winners are the IDs of the funded proposals, in the order the rule chose them.
	Winners []string `json:"winners"`
	// BallotHash is tally.HashBallots of the counted ballots, which anyone can
	// recompute from export.pb.
	BallotHash string `json:"ballot_hash"`
}

// ProjectUpdated is the payload of budgeting.project.updated, written in the
// transaction that records the update.
type ProjectUpdated struct {
	// CycleID and ProposalID name the selected project.
	CycleID    string `json:"cycle_id"`
	ProposalID string `json:"proposal_id"`
	// Status is the project's implementation status after the update: planned,
	// in_progress or done.
	Status string `json:"status"`
}
