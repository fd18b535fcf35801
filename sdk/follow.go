package sdk

// FollowState answers a plugin's follow routes (PUT and DELETE .../follow): the subject
// and whether the caller follows it now. The store's DB.Follow makes the change.
type FollowState struct {
	Subject   string `json:"subject" example:"parks.park:0190a6f3-8f5e-7c3a-9b1e-3c2d1a0f9e8d"`
	Following bool   `json:"following"`
}
