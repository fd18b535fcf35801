package consultations

import (
	"context"
	"strings"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Moderation of what residents write on idea boards. A signed-in person reports an
// idea or a comment (a category and their words); moderators (PermModerate, role
// moderator in the city) see the reported items in a queue and either keep the item or
// hide it with a category, which is shown in its place ("Hidden by a moderator:
// personal data"), and a note to the author. The author is told and may appeal once;
// another moderator than the one who hid it upholds the hiding or restores the item.
// Every step is audited in the core's audit log.

// ReportCategory is why something should be hidden.
type ReportCategory string

// The categories of reports and of hidings.
const (
	CategoryPersonalData ReportCategory = "personal_data"
	CategoryOffensive    ReportCategory = "offensive"
	CategorySpam         ReportCategory = "spam"
	CategoryOffTopic     ReportCategory = "off_topic"
	CategoryIllegal      ReportCategory = "illegal"
	CategoryOther        ReportCategory = "other"
)

// Categories are the categories, in the order forms list them.
var Categories = []ReportCategory{CategoryPersonalData, CategoryOffensive, CategorySpam, CategoryOffTopic, CategoryIllegal, CategoryOther}

// TargetKind is what a report or a hiding is about.
type TargetKind string

// What can be reported and hidden.
const (
	TargetIdea    TargetKind = "idea"
	TargetComment TargetKind = "comment"
)

// Limits of what reporters and moderators write, in characters.
const (
	MaxReport         = 1000
	MaxModeratorNote  = 2000
	MaxAppeal         = 2000
	MaxDecisionReason = 2000
)

// Decisions on an appeal.
const (
	DecisionUpheld   = "upheld"
	DecisionRestored = "restored"
)

// ReportInput is a resident's report of an idea or a comment.
type ReportInput struct {
	Category ReportCategory `json:"category" enum:"personal_data,offensive,spam,off_topic,illegal,other"`
	Body     string         `json:"body" max:"1000" doc:"What is wrong with it, in the reporter's words"`
}

// Report is one report as moderators see it; reporters are not named to them.
type Report struct {
	ID        string         `json:"id" format:"uuid"`
	Category  ReportCategory `json:"category"`
	Body      string         `json:"body"`
	CreatedAt time.Time      `json:"created_at"`
}

// Target names an idea or a comment of a board.
type Target struct {
	ConsultationID string     `json:"consultation_id" format:"uuid"`
	Kind           TargetKind `json:"kind" enum:"idea,comment"`
	ID             string     `json:"id" format:"uuid"`
	// IdeaID is the idea itself, or the idea a comment is on.
	IdeaID string `json:"idea_id" format:"uuid"`
}

// QueueItem is a reported item awaiting a moderator: its text as written and the open
// reports about it, oldest first.
type QueueItem struct {
	Target     Target    `json:"target"`
	Title      string    `json:"title,omitempty" doc:"An idea's title"`
	Body       string    `json:"body"`
	AuthorName string    `json:"author_name"`
	Reports    []Report  `json:"reports" nullable:"false"`
	FirstAt    time.Time `json:"first_reported_at"`
}

// HideInput is a moderator's decision to hide an item.
type HideInput struct {
	Category ReportCategory `json:"category" enum:"personal_data,offensive,spam,off_topic,illegal,other"`
	Note     string         `json:"note" max:"2000" doc:"To the author: why it was hidden; never public"`
}

// KeepInput is a moderator's decision to keep a reported item as it is.
type KeepInput struct {
	Note string `json:"note,omitempty" max:"2000" doc:"For moderators; kept with the reports, not in the audit log"`
}

// AppealInput is the author's one appeal against a hiding.
type AppealInput struct {
	Body string `json:"body" max:"2000"`
}

// DecisionInput is a moderator's decision on an appeal.
type DecisionInput struct {
	Decision string `json:"decision" enum:"upheld,restored"`
	Reason   string `json:"reason" max:"2000" doc:"Told to the author"`
}

// Case is one hiding: what was hidden and why, the author's appeal and its decision.
// Only the author and moderators see it.
type Case struct {
	ID         string         `json:"id" format:"uuid"`
	Target     Target         `json:"target"`
	Category   ReportCategory `json:"category"`
	Note       string         `json:"note"`
	Title      string         `json:"title,omitempty" doc:"The hidden idea's title"`
	Body       string         `json:"body" doc:"The hidden text"`
	HiddenAt   time.Time      `json:"hidden_at"`
	Appeal     string         `json:"appeal,omitempty"`
	AppealedAt *time.Time     `json:"appealed_at,omitempty"`
	Decision   string         `json:"decision,omitempty" enum:"upheld,restored"`
	Reason     string         `json:"decision_reason,omitempty"`
	DecidedAt  *time.Time     `json:"decided_at,omitempty"`
	// MayAppeal and MayDecide are the caller's.
	MayAppeal bool `json:"may_appeal"`
	MayDecide bool `json:"may_decide"`

	authorID, hiddenBy string
}

// CasePath is the page of a case, where the author appeals and a moderator decides.
func CasePath(id string) string { return "/consultations/moderation/cases/" + id }

// caseSubject is what a case's notifications are about.
func caseSubject(id string) string { return "consultations.case:" + id }

var errCaseNotFound = sdk.Errorf(sdk.CodeNotFound, "No such moderation case.")

// isModerator reports whether caller may moderate (asked of the host, as page routes
// open to residents carry no permissions in the Principal).
func (s *Service) isModerator(ctx context.Context, caller sdk.Principal) (bool, error) {
	if !caller.Authenticated() {
		return false, nil
	}
	return s.host.Can(ctx, caller.UserID, PermModerate, sdk.DomainCity)
}

func (s *Service) requireModerator(ctx context.Context, caller sdk.Principal) error {
	ok, err := s.isModerator(ctx, caller)
	if err != nil {
		return err
	}
	if !ok {
		return sdk.Errorf(sdk.CodeForbidden, "Only moderators may do this.")
	}
	return nil
}

func validCategory(c ReportCategory) bool {
	for _, k := range Categories {
		if k == c {
			return true
		}
	}
	return false
}

// target finds an idea (commentID "") or a comment of the board consultationID that
// the caller may see.
func (s *Service) target(ctx context.Context, q queryer, consultationID, ideaID, commentID string) (Target, string, error) {
	idea, err := s.st.idea(ctx, q, consultationID, ideaID)
	if err != nil {
		return Target{}, "", err
	}
	if commentID == "" {
		return Target{ConsultationID: consultationID, Kind: TargetIdea, ID: ideaID, IdeaID: ideaID}, idea.authorID, nil
	}
	cm, err := s.st.comment(ctx, q, ideaID, commentID)
	if err != nil {
		return Target{}, "", err
	}
	return Target{ConsultationID: consultationID, Kind: TargetComment, ID: commentID, IdeaID: ideaID}, cm.authorID, nil
}

// ReportItem reports an idea (commentID "") or a comment. One report per person and
// item; nobody reports what is already hidden or their own words.
func (s *Service) ReportItem(ctx context.Context, caller sdk.Principal, consultationID, ideaID, commentID string, in ReportInput) (Report, error) {
	if !caller.Authenticated() {
		return Report{}, sdk.RuleError(sdk.CodeUnauthenticated, "not_signed_in", "Sign in to report something.")
	}
	if _, err := s.board(ctx, caller, consultationID); err != nil {
		return Report{}, err
	}
	if !validCategory(in.Category) {
		return Report{}, sdk.Invalid("category", sdk.RuleOneOf, "must be one of personal_data, offensive, spam, off_topic, illegal, other")
	}
	in.Body = strings.TrimSpace(in.Body)
	if err := requiredText("body", in.Body, MaxReport); err != nil {
		return Report{}, err
	}
	now := s.now().UTC()
	r := Report{ID: newID(), Category: in.Category, Body: in.Body, CreatedAt: now.Truncate(time.Microsecond)}
	var t Target
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var author string
		var err error
		if t, author, err = s.target(ctx, tx, consultationID, ideaID, commentID); err != nil {
			return err
		}
		if author == caller.UserID {
			return sdk.RuleError(sdk.CodeConflict, "own_text", "You cannot report what you wrote yourself.")
		}
		if hidden, err := s.st.isHidden(ctx, tx, t); err != nil || hidden {
			return cmpErr(err, sdk.RuleError(sdk.CodeConflict, "hidden", "It is hidden already."))
		}
		if err := s.countRate(ctx, tx, caller.UserID, rateReport, now); err != nil {
			return err
		}
		return s.st.insertReport(ctx, tx, t, caller.UserID, r)
	})
	if err != nil {
		return Report{}, err
	}
	s.audit(ctx, caller, "consultations.content.reported", targetSubject(t), map[string]any{
		"consultation_id": t.ConsultationID, "category": string(in.Category), "report_id": r.ID})
	return r, nil
}

// targetSubject names an idea or a comment in the audit log.
func targetSubject(t Target) string { return "consultations." + string(t.Kind) + ":" + t.ID }

// Queue lists the items with open reports, the longest waiting first.
func (s *Service) Queue(ctx context.Context, caller sdk.Principal, q sdk.ListQuery) (sdk.Page[QueueItem], error) {
	if err := s.requireModerator(ctx, caller); err != nil {
		return sdk.Page[QueueItem]{}, err
	}
	items, err := s.st.queue(ctx, q)
	if err != nil {
		return sdk.Page[QueueItem]{}, err
	}
	return sdk.NewPage(items, q, func(i QueueItem) []any { return []any{store.Micros(i.FirstAt), string(i.Target.Kind), i.Target.ID} }), nil
}

// Appeals lists the cases whose appeal awaits a decision, the oldest appeal first.
func (s *Service) Appeals(ctx context.Context, caller sdk.Principal, q sdk.ListQuery) (sdk.Page[Case], error) {
	if err := s.requireModerator(ctx, caller); err != nil {
		return sdk.Page[Case]{}, err
	}
	cases, err := s.st.appeals(ctx, q)
	if err != nil {
		return sdk.Page[Case]{}, err
	}
	for i := range cases {
		cases[i].MayDecide = cases[i].hiddenBy != caller.UserID
	}
	return sdk.NewPage(cases, q, func(c Case) []any { return []any{store.Micros(*c.AppealedAt), c.ID} }), nil
}

// Hide hides a reported or unreported item with a category shown in its place and a
// note to the author, resolves its open reports, tells the author and audits it.
func (s *Service) Hide(ctx context.Context, caller sdk.Principal, consultationID, ideaID, commentID string, in HideInput) (Case, error) {
	if err := s.requireModerator(ctx, caller); err != nil {
		return Case{}, err
	}
	if !validCategory(in.Category) {
		return Case{}, sdk.Invalid("category", sdk.RuleOneOf, "must be one of personal_data, offensive, spam, off_topic, illegal, other")
	}
	in.Note = strings.TrimSpace(in.Note)
	if err := requiredText("note", in.Note, MaxModeratorNote); err != nil {
		return Case{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	c := Case{ID: newID(), Category: in.Category, Note: in.Note, HiddenAt: now, hiddenBy: caller.UserID}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if c.Target, c.authorID, err = s.target(ctx, tx, consultationID, ideaID, commentID); err != nil {
			return err
		}
		if ok, err := s.st.hide(ctx, tx, c.Target, in.Category); err != nil || !ok {
			return cmpErr(err, sdk.RuleError(sdk.CodeConflict, "hidden", "It is hidden already."))
		}
		if err := s.st.insertCase(ctx, tx, c); err != nil {
			return err
		}
		if err := s.st.resolveReports(ctx, tx, c.Target, "hidden", "", caller.UserID, now); err != nil {
			return err
		}
		return s.tellHidden(ctx, tx, c)
	})
	if err != nil {
		return Case{}, err
	}
	s.audit(ctx, caller, "consultations.content.hidden", targetSubject(c.Target), map[string]any{
		"consultation_id": c.Target.ConsultationID, "category": string(in.Category), "case_id": c.ID})
	return c, nil
}

// Keep closes the open reports of an item without hiding it, and audits it.
func (s *Service) Keep(ctx context.Context, caller sdk.Principal, consultationID, ideaID, commentID string, in KeepInput) error {
	if err := s.requireModerator(ctx, caller); err != nil {
		return err
	}
	in.Note = strings.TrimSpace(in.Note)
	if err := checkText("note", in.Note, MaxModeratorNote); err != nil {
		return err
	}
	var t Target
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if t, _, err = s.target(ctx, tx, consultationID, ideaID, commentID); err != nil {
			return err
		}
		return s.st.resolveReports(ctx, tx, t, "kept", in.Note, caller.UserID, s.now().UTC())
	})
	if err != nil {
		return err
	}
	// The note is free text that may name people: it stays with the reports it closed,
	// as a hiding's stays in its case, not in the audit log.
	s.audit(ctx, caller, "consultations.content.kept", targetSubject(t), map[string]any{
		"consultation_id": t.ConsultationID})
	return nil
}

// Case returns a case to its author or a moderator.
func (s *Service) Case(ctx context.Context, caller sdk.Principal, id string) (Case, error) {
	if !caller.Authenticated() {
		return Case{}, sdk.RuleError(sdk.CodeUnauthenticated, "not_signed_in", "Sign in to see this.")
	}
	c, err := s.st.moderationCase(ctx, s.db, id)
	if err != nil {
		return Case{}, err
	}
	mod, err := s.isModerator(ctx, caller)
	if err != nil {
		return Case{}, err
	}
	if c.authorID != caller.UserID && !mod {
		return Case{}, errCaseNotFound // no hint that a case exists
	}
	c.MayAppeal = c.authorID == caller.UserID && c.AppealedAt == nil && c.Decision == ""
	c.MayDecide = mod && c.AppealedAt != nil && c.Decision == "" && c.hiddenBy != caller.UserID
	return c, nil
}

// Appeal is the author's one appeal against a hiding.
func (s *Service) Appeal(ctx context.Context, caller sdk.Principal, caseID string, in AppealInput) (Case, error) {
	c, err := s.Case(ctx, caller, caseID)
	if err != nil {
		return Case{}, err
	}
	if c.authorID != caller.UserID {
		return Case{}, sdk.Errorf(sdk.CodeForbidden, "Only the author may appeal.")
	}
	in.Body = strings.TrimSpace(in.Body)
	if err := requiredText("body", in.Body, MaxAppeal); err != nil {
		return Case{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		ok, err := s.st.appeal(ctx, tx, caseID, in.Body, now)
		if err != nil || !ok {
			return cmpErr(err, sdk.RuleError(sdk.CodeConflict, "appealed", "You have appealed already: a hiding can be appealed once."))
		}
		return nil
	})
	if err != nil {
		return Case{}, err
	}
	c.Appeal, c.AppealedAt, c.MayAppeal = in.Body, &now, false
	s.audit(ctx, caller, "consultations.content.appealed", targetSubject(c.Target), map[string]any{
		"consultation_id": c.Target.ConsultationID, "case_id": c.ID})
	return c, nil
}

// Decide upholds a hiding or restores the item, on the author's appeal. The moderator
// who hid it does not decide the appeal against their own decision.
func (s *Service) Decide(ctx context.Context, caller sdk.Principal, caseID string, in DecisionInput) (Case, error) {
	if err := s.requireModerator(ctx, caller); err != nil {
		return Case{}, err
	}
	if in.Decision != DecisionUpheld && in.Decision != DecisionRestored {
		return Case{}, sdk.Invalid("decision", sdk.RuleOneOf, "must be upheld or restored")
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if err := requiredText("reason", in.Reason, MaxDecisionReason); err != nil {
		return Case{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	var c Case
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if c, err = s.st.lockCase(ctx, tx, caseID); err != nil {
			return err
		}
		switch {
		case c.AppealedAt == nil:
			return sdk.RuleError(sdk.CodeConflict, "not_appealed", "The author has not appealed: there is nothing to decide.")
		case c.Decision != "":
			return sdk.RuleError(sdk.CodeConflict, "decided", "The appeal has been decided already.")
		case c.hiddenBy == caller.UserID:
			return sdk.RuleError(sdk.CodeForbidden, "same_moderator", "Another moderator must decide an appeal against your own hiding.")
		}
		if err := s.st.decide(ctx, tx, caseID, in.Decision, in.Reason, caller.UserID, now); err != nil {
			return err
		}
		if in.Decision == DecisionRestored {
			if err := s.st.unhide(ctx, tx, c.Target); err != nil {
				return err
			}
		}
		c.Decision, c.Reason, c.DecidedAt = in.Decision, in.Reason, &now
		return s.tellDecided(ctx, tx, c)
	})
	if err != nil {
		return Case{}, err
	}
	s.audit(ctx, caller, "consultations.content.appeal_decided", targetSubject(c.Target), map[string]any{
		"consultation_id": c.Target.ConsultationID, "case_id": c.ID, "decision": in.Decision})
	return c, nil
}

// MyCases lists the caller's hidden ideas and comments, newest first, so they can
// find where to appeal.
func (s *Service) MyCases(ctx context.Context, caller sdk.Principal) ([]Case, error) {
	if !caller.Authenticated() {
		return nil, sdk.RuleError(sdk.CodeUnauthenticated, "not_signed_in", "Sign in to see this.")
	}
	cases, err := s.st.casesOf(ctx, caller.UserID)
	if err != nil {
		return nil, err
	}
	for i := range cases {
		cases[i].MayAppeal = cases[i].AppealedAt == nil && cases[i].Decision == ""
	}
	return cases, nil
}
