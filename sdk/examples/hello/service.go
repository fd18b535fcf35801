package hello

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Service holds hello's rules. It knows nothing of HTTP or SQL: handlers call it with
// the caller and plain values, and it calls Storage and the Host. A method that
// changes data owns the transaction and emits its events in it.
type Service struct {
	store    *Storage
	host     sdk.Host
	greeting string
	now      func() time.Time

	mu     sync.Mutex
	events []string // IDs of events received, in order
}

// NewService returns the service over a store and the host.
func NewService(st *Storage, host sdk.Host, greeting string) *Service {
	return &Service{store: st, host: host, greeting: greeting, now: time.Now}
}

// Greeting is ping's answer.
type Greeting struct {
	Greeting string `json:"greeting" doc:"The configured greeting" example:"hello"`
}

// Ping records a ping by the caller (anonymous too) and emits hello.pinged in the same
// transaction: the SDK delivers the event once the ping is committed, and never
// without it.
func (s *Service) Ping(ctx context.Context, caller sdk.Principal) (Greeting, error) {
	return s.record(ctx, caller, "")
}

// MaxMessage is the longest message a greeting may carry, in characters.
const MaxMessage = 80

// Greet records a greeting with a message from the page's form: a ping that says
// something. The message is required and at most MaxMessage characters; a broken rule
// is an invalid error naming the field "message" and the rule.
func (s *Service) Greet(ctx context.Context, caller sdk.Principal, message string) error {
	message = strings.TrimSpace(message)
	switch {
	case message == "":
		return sdk.Invalid("message", sdk.RuleRequired, "Enter a message.")
	case !utf8.ValidString(message) || strings.ContainsRune(message, 0):
		return sdk.Invalid("message", sdk.RuleFormat, "The message holds characters that are not text.")
	case utf8.RuneCountInString(message) > MaxMessage:
		return sdk.Invalid("message", sdk.RuleMaxLength, fmt.Sprintf("The message must be %d characters or fewer.", MaxMessage))
	}
	_, err := s.record(ctx, caller, message)
	return err
}

// PingCount is how many pings the caller has made.
func (s *Service) PingCount(ctx context.Context, caller sdk.Principal) (int, error) {
	return s.store.CountPings(ctx, caller.UserID)
}

func (s *Service) record(ctx context.Context, caller sdk.Principal, message string) (Greeting, error) {
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := s.store.AddPing(ctx, tx, caller.UserID, message, s.now()); err != nil {
			return err
		}
		return tx.Emit(EventPinged, PingedPayload{UserID: caller.UserID})
	})
	if err != nil {
		return Greeting{}, err
	}
	return Greeting{Greeting: s.greeting}, nil
}

// Ping is one recorded ping.
type Ping struct {
	ID int64 `json:"id"`
	// Message is what a greeting sent from the page said; empty for a ping.
	Message string    `json:"message" doc:"What a greeting sent from the page said; empty for a plain ping"`
	At      time.Time `json:"at"`
}

// Pings lists the caller's own pings, oldest first.
func (s *Service) Pings(ctx context.Context, caller sdk.Principal, q sdk.ListQuery) (sdk.Page[Ping], error) {
	rows, err := s.store.Pings(ctx, caller.UserID, q)
	if err != nil {
		return sdk.Page[Ping]{}, err
	}
	return sdk.NewPage(rows, q, func(p Ping) []any { return []any{p.ID} }), nil
}

// WhoAmI is the caller as the plugin sees them, plus what the host says about them.
type WhoAmI struct {
	Principal   sdk.Principal `json:"principal"`
	Users       []sdk.User    `json:"users"`
	CanEchoCity bool          `json:"can_echo_city"`
	RequestID   string        `json:"request_id"`
}

// WhoAmI asks the host about the caller: the one call most plugins make.
func (s *Service) WhoAmI(ctx context.Context, caller sdk.Principal) (WhoAmI, error) {
	users, err := s.host.Users(ctx, []string{caller.UserID})
	if err != nil {
		return WhoAmI{}, err
	}
	can, err := s.host.Can(ctx, caller.UserID, PermEcho, sdk.DomainCity)
	if err != nil {
		return WhoAmI{}, err
	}
	return WhoAmI{Principal: caller, Users: users, CanEchoCity: can, RequestID: sdk.RequestIDFrom(ctx)}, nil
}

// Calls is what reached the plugin.
type Calls struct {
	Calls  int64    `json:"calls" doc:"Requests handled, except reading this"`
	Events []string `json:"events" doc:"IDs of the events received, in order" nullable:"false"`
}

// Events are the IDs of the events received, in order.
func (s *Service) Events() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string{}, s.events...)
}

// HandleEvent forgets a deleted user's pings and records the event. A payload
// {"fail": true} fails, to exercise redelivery.
func (s *Service) HandleEvent(ctx context.Context, e sdk.Event) error {
	var body UserDeletedPayload
	if len(e.Payload) > 0 {
		if err := json.Unmarshal(e.Payload, &body); err != nil {
			return fmt.Errorf("event %s: %w", e.ID, err)
		}
	}
	if body.Fail {
		return errors.New("asked to fail")
	}
	if e.Type == EventUserDeleted && body.UserID != "" {
		if err := s.store.ForgetUser(ctx, body.UserID); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.events = append(s.events, e.ID)
	s.mu.Unlock()
	return nil
}
