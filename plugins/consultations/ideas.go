package consultations

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// The idea board: a consultation of kind "ideas". Residents who may take part post
// ideas, comment on them and support them (one support per person, withdrawable);
// staff mark an idea under review, taken forward or not taken forward, always with a
// reason, which is shown on the idea and told to its author and supporters. What
// residents write can be reported and hidden by a moderator (moderation.go).

// IdeaStatus is what became of an idea.
type IdeaStatus string

// The statuses of an idea. Every idea starts open; staff move it with a reason.
const (
	IdeaOpen            IdeaStatus = "open"
	IdeaUnderReview     IdeaStatus = "under_review"
	IdeaTakenForward    IdeaStatus = "taken_forward"
	IdeaNotTakenForward IdeaStatus = "not_taken_forward"
)

// Tone is the status tag's tone on pages.
func (s IdeaStatus) Tone() string {
	switch s {
	case IdeaTakenForward:
		return "success"
	case IdeaUnderReview:
		return "info"
	case IdeaNotTakenForward:
		return "warning"
	}
	return ""
}

// staffStatuses are the statuses staff may set.
var staffStatuses = []IdeaStatus{IdeaUnderReview, IdeaTakenForward, IdeaNotTakenForward}

// Limits of what residents and staff write on the board, in characters.
const (
	MaxIdeaTitle    = 150
	MaxIdeaBody     = 4000
	MaxComment      = 2000
	MaxStatusReason = 2000
)

// Rate limits per person: ideas a day, comments a minute, reports an hour. Fixed
// windows, counted in the transaction of the write (idea_rate_windows).
var ideaRates = map[string]rateLimit{
	rateIdea:    {Limit: 5, Window: 24 * time.Hour},
	rateComment: {Limit: 3, Window: time.Minute},
	rateReport:  {Limit: 10, Window: time.Hour},
}

const (
	rateIdea    = "idea"
	rateComment = "comment"
	rateReport  = "report"
)

// rateLimit is how many writes of one kind a person may make in one window.
type rateLimit struct {
	Limit  int
	Window time.Duration
}

// Sorts of the board.
const (
	SortSupported = "supported" // most supported first, then newest
	SortNewest    = "newest"
)

// AuthorShown says how an author appears: by the name they chose to show, as "a
// resident" when they chose not to, or as "a former member" once their account is gone.
type AuthorShown string

// How an author appears.
const (
	AuthorNamed  AuthorShown = "named"
	AuthorHidden AuthorShown = "not_shown"
	AuthorErased AuthorShown = "former_member"
)

// Idea is one idea on a board, as anyone may read it. A hidden idea keeps its place,
// status and supports but shows neither title nor text, only why it was hidden.
type Idea struct {
	ID              string      `json:"id" format:"uuid"`
	ConsultationID  string      `json:"consultation_id" format:"uuid"`
	Title           string      `json:"title" doc:"Empty when hidden"`
	Body            string      `json:"body" doc:"Plain text; empty when hidden"`
	NeighbourhoodID string      `json:"neighbourhood_id,omitempty" doc:"The neighbourhood it is about, if the author named one"`
	AuthorName      string      `json:"author_name" doc:"The name the author chose to show; empty otherwise"`
	Author          AuthorShown `json:"author" enum:"named,not_shown,former_member"`
	Status          IdeaStatus  `json:"status" enum:"open,under_review,taken_forward,not_taken_forward"`
	StatusReason    string      `json:"status_reason" doc:"The city's reason for the status; empty while open"`
	StatusAt        *time.Time  `json:"status_at,omitempty"`
	Supports        int         `json:"supports"`
	Comments        int         `json:"comments"`
	Hidden          *Hidden     `json:"hidden,omitempty" doc:"Set when a moderator hid it"`
	CreatedAt       time.Time   `json:"created_at"`
	// Supported and Mine are the caller's: whether they support it, whether they wrote it.
	Supported bool `json:"supported,omitempty"`
	Mine      bool `json:"mine,omitempty"`

	authorID string
	// hiddenTitle is a hidden idea's title, for the notifications of its author and
	// supporters, who know it.
	hiddenTitle string
}

// Hidden says why a moderator hid an idea or a comment: the category shown in its place.
type Hidden struct {
	Category ReportCategory `json:"category" enum:"personal_data,offensive,spam,off_topic,illegal,other"`
}

// Comment is a comment on an idea, as anyone may read it.
type Comment struct {
	ID         string      `json:"id" format:"uuid"`
	IdeaID     string      `json:"idea_id" format:"uuid"`
	Body       string      `json:"body" doc:"Empty when hidden"`
	AuthorName string      `json:"author_name"`
	Author     AuthorShown `json:"author" enum:"named,not_shown,former_member"`
	Hidden     *Hidden     `json:"hidden,omitempty"`
	CreatedAt  time.Time   `json:"created_at"`
	Mine       bool        `json:"mine,omitempty"`

	authorID string
}

// IdeaInput is a new idea.
type IdeaInput struct {
	Title           string `json:"title" max:"150"`
	Body            string `json:"body" max:"4000"`
	NeighbourhoodID string `json:"neighbourhood_id,omitempty" max:"100"`
	// ShowName shows the author's display name with the idea; otherwise "a resident".
	ShowName bool `json:"show_name,omitempty"`
	// AgeConfirmed confirms the board's minimum age, where it has one.
	AgeConfirmed bool `json:"age_confirmed,omitempty"`
}

// CommentInput is a new comment.
type CommentInput struct {
	Body         string `json:"body" max:"2000"`
	ShowName     bool   `json:"show_name,omitempty"`
	AgeConfirmed bool   `json:"age_confirmed,omitempty"`
}

// StatusInput is staff's decision about an idea.
type StatusInput struct {
	Status IdeaStatus `json:"status" enum:"under_review,taken_forward,not_taken_forward"`
	Reason string     `json:"reason" max:"2000"`
}

// SupportState is whether the caller supports an idea, and how many do.
type SupportState struct {
	Supported bool `json:"supported"`
	Supports  int  `json:"supports"`
}

// IdeaSubject is what an idea's notifications are about; IdeaPath is its page.
func IdeaSubject(id string) string { return "consultations.idea:" + id }

// IdeaPath is the page of an idea.
func IdeaPath(consultationID, ideaID string) string {
	return "/consultations/" + consultationID + "/ideas/" + ideaID
}

var (
	errIdeaNotFound = sdk.Errorf(sdk.CodeNotFound, "No such idea.")
	errNotIdeaBoard = sdk.RuleError(sdk.CodeConflict, "not_idea_board", "This consultation is not an idea board.")
)

// board returns the consultation id as an idea board the caller may see.
func (s *Service) board(ctx context.Context, caller sdk.Principal, id string) (*Consultation, error) {
	c, err := s.Get(ctx, caller, id)
	if err != nil {
		return nil, err
	}
	if c.Kind != KindIdeas {
		return nil, errNotIdeaBoard
	}
	return c, nil
}

// mayWrite checks that caller may write on the board c now: it is open and the caller
// may take part in it — a verified resident of one of its neighbourhoods where it is
// for residents, of the minimum age where it has one (by the verified age, or else
// confirmed with each write).
// Writing needs a signed-in person even where anyone may answer a survey, since ideas,
// comments and supports are each somebody's. Refusals name the rule and say why in the
// caller's language, as Eligibility does.
func (s *Service) mayWrite(ctx context.Context, caller sdk.Principal, c *Consultation, ageConfirmed bool) error {
	rule := ""
	switch {
	case c.Stage == StageUpcoming:
		rule = RuleNotOpen
	case c.Stage != StageOpen:
		rule = RuleClosed
	case !caller.Authenticated():
		rule = RuleSignIn
	case c.Participation == ParticipationResidents && !residentOf(caller, c.Neighbourhoods):
		rule = RuleResidents
	default:
		return s.ageRefusal(ctx, c, caller, ageConfirmed)
	}
	return s.refusalError(ctx, c, rule)
}

// PostIdea posts an idea on the board consultationID.
func (s *Service) PostIdea(ctx context.Context, caller sdk.Principal, consultationID string, in IdeaInput) (Idea, error) {
	c, err := s.board(ctx, caller, consultationID)
	if err != nil {
		return Idea{}, err
	}
	if err := s.mayWrite(ctx, caller, c, in.AgeConfirmed); err != nil {
		return Idea{}, err
	}
	in.Title, in.Body, in.NeighbourhoodID = strings.TrimSpace(in.Title), strings.TrimSpace(in.Body), strings.TrimSpace(in.NeighbourhoodID)
	if err := requiredText("title", in.Title, MaxIdeaTitle); err != nil {
		return Idea{}, err
	}
	if err := requiredText("body", in.Body, MaxIdeaBody); err != nil {
		return Idea{}, err
	}
	if in.NeighbourhoodID != "" {
		if err := s.ideaNeighbourhood(ctx, c, in.NeighbourhoodID); err != nil {
			return Idea{}, err
		}
	}
	now := s.now().UTC()
	idea := Idea{ID: newID(), ConsultationID: c.ID, Title: in.Title, Body: in.Body, NeighbourhoodID: in.NeighbourhoodID,
		Author: AuthorHidden, Status: IdeaOpen, CreatedAt: now.Truncate(time.Microsecond), Mine: true, authorID: caller.UserID}
	if in.ShowName && strings.TrimSpace(caller.DisplayName) != "" {
		idea.AuthorName, idea.Author = caller.DisplayName, AuthorNamed
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.countRate(ctx, tx, caller.UserID, rateIdea, now); err != nil {
			return err
		}
		return s.st.insertIdea(ctx, tx, idea)
	})
	if err != nil {
		return Idea{}, err
	}
	return idea, nil
}

// ideaNeighbourhood checks that an idea's neighbourhood is one of the board's (any of
// the city's when the board is city-wide).
func (s *Service) ideaNeighbourhood(ctx context.Context, c *Consultation, id string) error {
	if len(c.Neighbourhoods) > 0 {
		for _, n := range c.Neighbourhoods {
			if n == id {
				return nil
			}
		}
		return sdk.Invalid("neighbourhood_id", sdk.RuleOneOf, "must be one of the neighbourhoods the idea board is for")
	}
	if err := checkText("neighbourhood_id", id, MaxNeighbourhood); err != nil {
		return err
	}
	found, err := s.host.Neighbourhoods(ctx, []string{id})
	if err != nil {
		return fmt.Errorf("look up neighbourhood: %w", err)
	}
	if len(found) == 0 || found[0].Archived {
		return sdk.Invalid("neighbourhood_id", sdk.RuleExists, "is not a neighbourhood of the city")
	}
	return nil
}

// requiredText refuses blank text and text checkText refuses.
func requiredText(field, s string, maxLen int) error {
	if s == "" {
		return sdk.Invalid(field, sdk.RuleRequired, "must not be empty")
	}
	return checkText(field, s, maxLen)
}

// Ideas lists a board's ideas, most supported or newest first.
func (s *Service) Ideas(ctx context.Context, caller sdk.Principal, consultationID, sort string, q sdk.ListQuery) (sdk.Page[Idea], error) {
	if sort == "" {
		sort = SortSupported
	}
	if sort != SortSupported && sort != SortNewest {
		return sdk.Page[Idea]{}, sdk.Invalid("sort", sdk.RuleOneOf, "must be supported or newest")
	}
	c, err := s.board(ctx, caller, consultationID)
	if err != nil {
		return sdk.Page[Idea]{}, err
	}
	rows, err := s.st.ideas(ctx, c.ID, sort, q)
	if err != nil {
		return sdk.Page[Idea]{}, err
	}
	if err := s.st.markViewer(ctx, rows, caller.UserID); err != nil {
		return sdk.Page[Idea]{}, err
	}
	return sdk.NewPage(rows, q, ideaKey(sort)), nil
}

// ideaKey is the sort key of a page of ideas, as ideas orders them.
func ideaKey(sort string) func(Idea) []any {
	if sort == SortNewest {
		return func(i Idea) []any { return []any{store.Micros(i.CreatedAt), i.ID} }
	}
	return func(i Idea) []any { return []any{int64(i.Supports), store.Micros(i.CreatedAt), i.ID} }
}

// Idea returns one idea of a board the caller may see.
func (s *Service) Idea(ctx context.Context, caller sdk.Principal, consultationID, ideaID string) (Idea, error) {
	if _, err := s.board(ctx, caller, consultationID); err != nil {
		return Idea{}, err
	}
	idea, err := s.st.idea(ctx, s.db, consultationID, ideaID)
	if err != nil {
		return Idea{}, err
	}
	rows := []Idea{idea}
	if err := s.st.markViewer(ctx, rows, caller.UserID); err != nil {
		return Idea{}, err
	}
	return rows[0], nil
}

// Comments lists an idea's comments, oldest first.
func (s *Service) Comments(ctx context.Context, caller sdk.Principal, consultationID, ideaID string, q sdk.ListQuery) (sdk.Page[Comment], error) {
	if _, err := s.Idea(ctx, caller, consultationID, ideaID); err != nil {
		return sdk.Page[Comment]{}, err
	}
	rows, err := s.st.comments(ctx, ideaID, q)
	if err != nil {
		return sdk.Page[Comment]{}, err
	}
	for i := range rows {
		rows[i].Mine = caller.Authenticated() && rows[i].authorID == caller.UserID
	}
	return sdk.NewPage(rows, q, func(c Comment) []any { return []any{store.Micros(c.CreatedAt), c.ID} }), nil
}

// AddComment comments on an idea. A hidden idea takes no comments.
func (s *Service) AddComment(ctx context.Context, caller sdk.Principal, consultationID, ideaID string, in CommentInput) (Comment, error) {
	c, err := s.board(ctx, caller, consultationID)
	if err != nil {
		return Comment{}, err
	}
	if err := s.mayWrite(ctx, caller, c, in.AgeConfirmed); err != nil {
		return Comment{}, err
	}
	in.Body = strings.TrimSpace(in.Body)
	if err := requiredText("body", in.Body, MaxComment); err != nil {
		return Comment{}, err
	}
	now := s.now().UTC()
	cm := Comment{ID: newID(), IdeaID: ideaID, Body: in.Body, Author: AuthorHidden, CreatedAt: now.Truncate(time.Microsecond),
		Mine: true, authorID: caller.UserID}
	if in.ShowName && strings.TrimSpace(caller.DisplayName) != "" {
		cm.AuthorName, cm.Author = caller.DisplayName, AuthorNamed
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		idea, err := s.st.idea(ctx, tx, consultationID, ideaID)
		if err != nil {
			return err
		}
		if idea.Hidden != nil {
			return sdk.RuleError(sdk.CodeConflict, "hidden", "A hidden idea takes no comments.")
		}
		if err := s.countRate(ctx, tx, caller.UserID, rateComment, now); err != nil {
			return err
		}
		return s.st.insertComment(ctx, tx, cm)
	})
	if err != nil {
		return Comment{}, err
	}
	return cm, nil
}

// Support gives (on) or withdraws the caller's support of an idea; giving it twice or
// withdrawing it twice changes nothing. Nobody supports their own idea, nor a hidden one.
func (s *Service) Support(ctx context.Context, caller sdk.Principal, consultationID, ideaID string, on, ageConfirmed bool) (SupportState, error) {
	c, err := s.board(ctx, caller, consultationID)
	if err != nil {
		return SupportState{}, err
	}
	if err := s.mayWrite(ctx, caller, c, ageConfirmed || !on); err != nil {
		return SupportState{}, err
	}
	var st SupportState
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		idea, err := s.st.lockIdea(ctx, tx, consultationID, ideaID)
		if err != nil {
			return err
		}
		if on && idea.authorID == caller.UserID {
			return sdk.RuleError(sdk.CodeConflict, "own_idea", "You cannot support your own idea.")
		}
		if on && idea.Hidden != nil {
			return sdk.RuleError(sdk.CodeConflict, "hidden", "A hidden idea cannot be supported.")
		}
		changed, err := s.st.setSupport(ctx, tx, ideaID, caller.UserID, on, s.now().UTC())
		if err != nil {
			return err
		}
		st = SupportState{Supported: on, Supports: idea.Supports}
		switch {
		case changed && on:
			st.Supports++
		case changed:
			st.Supports--
		}
		return nil
	})
	return st, err
}

// SetStatus is staff's decision about an idea, with the reason shown on it; the
// author and the supporters are told, and the decision is audited. Staff may decide
// after the board closes: that is when most decisions are made.
func (s *Service) SetStatus(ctx context.Context, caller sdk.Principal, consultationID, ideaID string, in StatusInput) (Idea, error) {
	if staff, err := s.isStaff(ctx, caller); err != nil || !staff {
		return Idea{}, cmpErr(err, sdk.Errorf(sdk.CodeForbidden, "Only consultation staff decide what becomes of an idea."))
	}
	if !isStaffStatus(in.Status) {
		return Idea{}, sdk.Invalid("status", sdk.RuleOneOf, "must be under_review, taken_forward or not_taken_forward")
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if err := requiredText("reason", in.Reason, MaxStatusReason); err != nil {
		return Idea{}, err
	}
	c, err := s.board(ctx, caller, consultationID)
	if err != nil {
		return Idea{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	var idea Idea
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if idea, err = s.st.lockIdea(ctx, tx, c.ID, ideaID); err != nil {
			return err
		}
		if err := s.st.setStatus(ctx, tx, ideaID, in.Status, in.Reason, caller.UserID, now); err != nil {
			return err
		}
		idea.Status, idea.StatusReason, idea.StatusAt = in.Status, in.Reason, &now
		supporters, err := s.st.supporters(ctx, tx, ideaID)
		if err != nil {
			return err
		}
		return s.tellStatus(ctx, tx, c, idea, append(supporters, idea.authorID), caller.UserID)
	})
	if err != nil {
		return Idea{}, err
	}
	s.audit(ctx, caller, "consultations.idea.status", IdeaSubject(ideaID), map[string]any{
		"consultation_id": c.ID, "status": string(in.Status)})
	return idea, nil
}

func isStaffStatus(st IdeaStatus) bool {
	for _, s := range staffStatuses {
		if s == st {
			return true
		}
	}
	return false
}

// countRate counts one write of action by userID in the window now falls in, and
// refuses it (rate_limited, with when to try again) once the window is full. It runs
// in the write's transaction: a refused or failed write leaves the count as it was.
func (s *Service) countRate(ctx context.Context, tx *store.Tx, userID, action string, now time.Time) error {
	lim := ideaRates[action]
	start := now.Truncate(lim.Window)
	hits, err := s.st.hit(ctx, tx, userID, action, store.Micros(start))
	if err != nil {
		return err
	}
	if hits <= lim.Limit {
		return nil
	}
	retry := int(start.Add(lim.Window).Sub(now).Seconds()) + 1
	e := sdk.RuleError(sdk.CodeRateLimited, "rate_"+action,
		"You have reached the limit of %d %s; try again in %s.", lim.Limit, rateNoun(action, lim.Window), (time.Duration(retry) * time.Second).String())
	e.RetryAfterSeconds = retry
	return e
}

func rateNoun(action string, window time.Duration) string {
	per := map[time.Duration]string{time.Minute: "a minute", time.Hour: "an hour", 24 * time.Hour: "a day"}[window]
	return action + "s " + per
}

// audit records a moderator's or staff member's act in the core's audit log. A
// failure is logged, not returned: the act has happened and committed.
func (s *Service) audit(ctx context.Context, actor sdk.Principal, action, target string, detail map[string]any) {
	err := s.host.Audit(ctx, sdk.AuditEntry{ActorID: actor.UserID, Action: action, Domain: sdk.DomainCity, Target: target, Detail: detail})
	if err != nil {
		s.log.ErrorContext(ctx, "audit failed", "action", action, "target", target, "error", err)
	}
}

// IdeaBoardData is the board as open data: every idea with its comments, hidden ones
// showing only why, and no personal data but the names people chose to show.
func (s *Service) IdeaBoardData(ctx context.Context, _ sdk.Principal, consultationID string) (IdeaBoardData, error) {
	c, err := s.board(ctx, sdk.Principal{}, consultationID)
	if err != nil {
		return IdeaBoardData{}, err
	}
	out := IdeaBoardData{Format: IdeaBoardFormat, ConsultationID: c.ID, Title: c.Title, Stage: c.Stage,
		GeneratedAt: s.now().UTC().Truncate(time.Second), Ideas: []OpenIdea{}}
	ideas, err := s.st.allIdeas(ctx, c.ID)
	if err != nil {
		return IdeaBoardData{}, err
	}
	comments, err := s.st.allComments(ctx, c.ID)
	if err != nil {
		return IdeaBoardData{}, err
	}
	for _, i := range ideas {
		o := OpenIdea{ID: i.ID, Title: i.Title, Body: i.Body, NeighbourhoodID: i.NeighbourhoodID, AuthorName: i.AuthorName,
			Author: i.Author, Status: i.Status, StatusReason: i.StatusReason, StatusAt: i.StatusAt, Supports: i.Supports,
			Hidden: i.Hidden, CreatedAt: i.CreatedAt, Comments: []Comment{}}
		if comments[i.ID] != nil {
			o.Comments = comments[i.ID]
		}
		out.Ideas = append(out.Ideas, o)
	}
	return out, nil
}
