package hello

// Event types hello publishes and consumes.
const (
	// EventPinged is published on every ping; payload PingedPayload.
	EventPinged = "hello.pinged"
	// EventUserDeleted is the core's; payload UserDeletedPayload. Hello forgets the
	// person's pings.
	EventUserDeleted = "core.user.deleted"
)

// PingedPayload is the payload of EventPinged.
type PingedPayload struct {
	// UserID is who pinged; "" for an anonymous ping.
	UserID string `json:"user_id"`
}

// UserDeletedPayload is the part of core.user.deleted hello reads. Fail asks the
// handler to fail, so host tests can exercise redelivery.
type UserDeletedPayload struct {
	UserID string `json:"user_id"`
	Fail   bool   `json:"fail"`
}
