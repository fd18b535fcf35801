package assemblies

import "time"

// Event types the plugin publishes, and the one it consumes. Each published type has
// one payload struct below; README.md lists them field by field.
const (
	EventAssemblyCreated       = "assemblies.assembly.created"
	EventMemberJoined          = "assemblies.member.joined"
	EventMeetingScheduled      = "assemblies.meeting.scheduled"
	EventMeetingCancelled      = "assemblies.meeting.cancelled"
	EventMinutesPublished      = "assemblies.minutes.published"
	EventConsultationRequested = "assemblies.consultation.requested"
	EventMotionTabled          = "assemblies.motion.tabled"
	EventMotionWithdrawn       = "assemblies.motion.withdrawn"
	EventVoteOpened            = "assemblies.vote.opened"
	EventMotionAdopted         = "assemblies.motion.adopted"
	EventMotionRejected        = "assemblies.motion.rejected"
	EventMotionNoQuorum        = "assemblies.motion.no_quorum"
	EventMotionAcknowledged    = "assemblies.motion.acknowledged"
	EventMotionAnswered        = "assemblies.motion.answered"
	EventMotionImplemented     = "assemblies.motion.implemented"
)

// publishedEvents are the types the manifest declares, in the order above.
var publishedEvents = []string{
	EventAssemblyCreated, EventMemberJoined, EventMeetingScheduled, EventMeetingCancelled,
	EventMinutesPublished, EventConsultationRequested, EventMotionTabled, EventMotionWithdrawn,
	EventVoteOpened, EventMotionAdopted, EventMotionRejected, EventMotionNoQuorum,
	EventMotionAcknowledged, EventMotionAnswered, EventMotionImplemented,
}

// AssemblyRef opens every payload the plugin publishes: which assembly, and the
// neighbourhood whose subscribers care.
type AssemblyRef struct {
	AssemblyID      string `json:"assembly_id"`
	NeighbourhoodID string `json:"neighbourhood_id"`
}

func refOf(a Assembly) AssemblyRef {
	return AssemblyRef{AssemblyID: a.ID, NeighbourhoodID: a.NeighbourhoodID}
}

// AssemblyCreatedPayload is the payload of assemblies.assembly.created: a coordinator
// created an assembly.
type AssemblyCreatedPayload struct {
	AssemblyRef
}

// MemberJoinedPayload is the payload of assemblies.member.joined: a resident joined
// or applied, or an organisation's delegate was seated.
type MemberJoinedPayload struct {
	AssemblyRef
	UserID string `json:"user_id"`
	// Status is active, or pending for an application to an approval assembly.
	Status string `json:"status"`
	// OrganisationID is set for a delegate.
	OrganisationID string `json:"organisation_id,omitempty"`
}

// MeetingScheduledPayload is the payload of assemblies.meeting.scheduled.
type MeetingScheduledPayload struct {
	AssemblyRef
	MeetingID string    `json:"meeting_id"`
	StartsAt  time.Time `json:"starts_at"`
}

// MeetingCancelledPayload is the payload of assemblies.meeting.cancelled.
type MeetingCancelledPayload struct {
	AssemblyRef
	MeetingID string `json:"meeting_id"`
	// Reason is the officer's explanation, always given.
	Reason string `json:"reason"`
}

// MinutesPublishedPayload is the payload of assemblies.minutes.published: a meeting's
// approved minutes are public.
type MinutesPublishedPayload struct {
	AssemblyRef
	MeetingID string `json:"meeting_id"`
}

// ConsultationRequestedPayload is the payload of assemblies.consultation.requested:
// the city asked the assembly for advice, by a deadline.
type ConsultationRequestedPayload struct {
	AssemblyRef
	MotionID    string    `json:"motion_id"`
	AdviceDueAt time.Time `json:"advice_due_at"`
}

// MotionTabledPayload is the payload of assemblies.motion.tabled.
type MotionTabledPayload struct {
	AssemblyRef
	MotionID string `json:"motion_id"`
}

// MotionWithdrawnPayload is the payload of assemblies.motion.withdrawn.
type MotionWithdrawnPayload struct {
	AssemblyRef
	MotionID string `json:"motion_id"`
}

// VoteOpenedPayload is the payload of assemblies.vote.opened.
type VoteOpenedPayload struct {
	AssemblyRef
	MotionID string `json:"motion_id"`
	// Electorate is how many members may vote, frozen at the open.
	Electorate int `json:"electorate"`
}

// MotionAdoptedPayload is the payload of assemblies.motion.adopted: the vote closed,
// the motion passed and goes to the city for an answer.
type MotionAdoptedPayload struct {
	AssemblyRef
	MotionID string `json:"motion_id"`
	Outcome  string `json:"outcome"` // "adopted"
	Counts   Counts `json:"counts"`
}

// MotionRejectedPayload is the payload of assemblies.motion.rejected: the vote closed
// with a quorum, and the majority was not reached.
type MotionRejectedPayload struct {
	AssemblyRef
	MotionID string `json:"motion_id"`
	Outcome  string `json:"outcome"` // "rejected"
	Counts   Counts `json:"counts"`
}

// MotionNoQuorumPayload is the payload of assemblies.motion.no_quorum: the vote closed
// with too few ballots to decide.
type MotionNoQuorumPayload struct {
	AssemblyRef
	MotionID string `json:"motion_id"`
	Outcome  string `json:"outcome"` // "no_quorum"
	Counts   Counts `json:"counts"`
}

// MotionAcknowledgedPayload is the payload of assemblies.motion.acknowledged: the city
// received an adopted motion.
type MotionAcknowledgedPayload struct {
	AssemblyRef
	MotionID string `json:"motion_id"`
}

// MotionAnsweredPayload is the payload of assemblies.motion.answered.
type MotionAnsweredPayload struct {
	AssemblyRef
	MotionID string `json:"motion_id"`
	// Decision is accepted, partly_accepted or declined.
	Decision  string `json:"decision"`
	Reasoning string `json:"reasoning"`
	// Late is true (and only then present) when the answer came after its deadline.
	Late bool `json:"late,omitempty"`
}

// MotionImplementedPayload is the payload of assemblies.motion.implemented.
type MotionImplementedPayload struct {
	AssemblyRef
	MotionID string `json:"motion_id"`
}

// closedPayload is the payload of the close, typed by its outcome.
func closedPayload(a Assembly, motionID, outcome string, c Counts) (string, any) {
	switch outcome {
	case StateAdopted:
		return EventMotionAdopted, MotionAdoptedPayload{AssemblyRef: refOf(a), MotionID: motionID, Outcome: outcome, Counts: c}
	case StateRejected:
		return EventMotionRejected, MotionRejectedPayload{AssemblyRef: refOf(a), MotionID: motionID, Outcome: outcome, Counts: c}
	default:
		return EventMotionNoQuorum, MotionNoQuorumPayload{AssemblyRef: refOf(a), MotionID: motionID, Outcome: outcome, Counts: c}
	}
}
