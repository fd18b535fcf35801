package core

import (
	"context"
	"time"
)

// The mail queue (DESIGN.md §11) holds every mail the core sends until the server took
// it: account mail, notifications and digests. Its worker retries a refused mail with
// backoff and gives up after a number of tries; city administrators see what failed
// at /admin/mail and may send it again.

// Mail queue states of a row.
const (
	MailQueued  = "queued"
	MailSent    = "sent"
	MailFailed  = "failed"
	MailDropped = "dropped"
)

// Reasons a queued mail is dropped without sending, recorded as its error.
const (
	MailDropUnverified    = "address not verified"
	MailDropAddressGone   = "account deleted or without an address"
	MailDropAddressChange = "address changed since queued"
	MailDropNoComposer    = "no composer for its purpose"
)

// MailFailure is a mail that was refused or could not be made: never its address or
// content, which an administrator's page does not need.
type MailFailure struct {
	ID       string    `json:"id" db:"id"`
	Purpose  string    `json:"purpose" db:"purpose"`
	State    string    `json:"state" db:"state"`
	Attempts int       `json:"attempts" db:"attempts"`
	Error    string    `json:"error" db:"last_error"`
	At       time.Time `json:"at" db:"updated_at"`
}

// MailStatus is the queue as an operator sees it.
type MailStatus struct {
	// Configured is false while the node has no mail server: mail waits.
	Configured bool `json:"configured"`
	Queued     int  `json:"queued"`
	// Retrying counts queued mail that failed at least once.
	Retrying int `json:"retrying"`
	Failed   int `json:"failed"`
	// Recent are the latest failures and drops, newest first.
	Recent []MailFailure `json:"recent"`
}

// MailQueueService is what the administrators' page does with the queue; both methods
// need core.mail.manage in the city.
type MailQueueService interface {
	MailStatus(ctx context.Context) (MailStatus, error)
	// RetryFailed queues every failed mail again, for a full set of tries.
	RetryFailed(ctx context.Context) (int, error)
}

// PermMailManage sees the mail queue and retries what failed: city administrators
// (through "*").
const PermMailManage = "core.mail.manage"
