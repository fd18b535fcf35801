package budgeting

import (
	"context"
	"regexp"
	"strings"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Photos and documents on proposals and on implementation updates (issue 19). The
// host receives every file (DESIGN.md §10 "Uploads"): it checks the file by its
// content, strips a photo's metadata, keeps it, and hands the plugin an upload id in
// the form field's place. The host sets a declared file field's value itself and drops
// whatever a client sent under that name, so an id reaching these methods came from
// the host for this request; the plugin keeps the id and what the file shows.

// maxAttachments bounds a proposal's own photos and documents: enough to show a
// place and a plan, few enough that the page stays readable.
const maxAttachments = 10

// RuleMaxAttachments names a proposal that has maxAttachments already.
const RuleMaxAttachments = "max_attachments"

// AttachmentInput is a file the host received for a form, with what it shows.
type AttachmentInput struct {
	// Kind is AttachPhoto or AttachDocument: which field of the form the host put
	// the id in, so which kinds of file it accepted there.
	Kind string
	// UploadID is the host's id of the file.
	UploadID string
	// Text is a photo's text alternative or a document's title.
	Text string
}

// uploadIDPattern is the form of the host's upload ids (random UUIDs). Anything else
// never came from the host.
var uploadIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// maxAttachmentText bounds a text alternative or a title, in characters.
const maxAttachmentText = 300

// check refuses an attachment the page could not show properly, naming the form's
// field: a photo without its text alternative, a document without a title.
func (in *AttachmentInput) check() error {
	in.Text = strings.TrimSpace(in.Text)
	switch {
	case in.Kind != AttachPhoto && in.Kind != AttachDocument:
		return sdk.Invalid("kind", sdk.RuleOneOf, "must be photo or document")
	case in.UploadID == "":
		return sdk.Invalid(in.Kind, sdk.RuleRequired, "choose a file")
	case !uploadIDPattern.MatchString(in.UploadID):
		return sdk.Invalid(in.Kind, sdk.RuleFormat, "not a file the host received")
	case in.Text == "" && in.Kind == AttachPhoto:
		return sdk.Invalid("alt", sdk.RuleRequired, "describe what the photo shows, for those who cannot see it")
	case in.Text == "":
		return sdk.Invalid("title", sdk.RuleRequired, "give the document a title")
	case strings.ContainsRune(in.Text, 0):
		return sdk.Invalid(in.textField(), sdk.RuleNUL, "must not contain NUL")
	case len([]rune(in.Text)) > maxAttachmentText:
		return sdk.Invalid(in.textField(), sdk.RuleMaxLength, "at most 300 characters")
	}
	return nil
}

// textField is the form field of the attachment's text.
func (in *AttachmentInput) textField() string {
	if in.Kind == AttachPhoto {
		return "alt"
	}
	return "title"
}

// mayAttach reports why pr may not add to or remove from p's files, nil when they
// may: its author until review starts (as long as they may edit it), and anyone who
// reviews the cycle's proposals, at any time (a plan the city drew, a photo of the
// site).
func (s *Service) mayAttach(ctx context.Context, pr sdk.Principal, c *Cycle, p *Proposal) error {
	if !pr.Authenticated() {
		return sdk.Errorf(sdk.CodeUnauthenticated, "sign in first")
	}
	if s.can(ctx, pr, PermProposalReview, c.nbh()) == nil {
		return nil
	}
	if p.AuthorID != pr.UserID {
		return sdk.Errorf(sdk.CodeForbidden, "only the author or the city may add files to a proposal")
	}
	if c.Phase != PhaseIdeas && c.Phase != PhaseSupport {
		return sdk.Errorf(sdk.CodeConflict, "an author adds files until review; the cycle is in %s", c.Phase)
	}
	return nil
}

// attachable is the cycle of proposal id when pr may change the proposal's files.
func (s *Service) attachable(ctx context.Context, pr sdk.Principal, cycleID, id string) (*Cycle, error) {
	c, err := findCycle(ctx, s.db, cycleID)
	if err != nil {
		return nil, err
	}
	p, err := findProposal(ctx, s.db, cycleID, id)
	if err != nil {
		return nil, err
	}
	if err := s.mayAttach(ctx, pr, c, p); err != nil {
		return nil, err
	}
	return c, nil
}

// AddAttachment adds a photo or a document to a proposal.
func (s *Service) AddAttachment(ctx context.Context, pr sdk.Principal, cycleID, id string, in AttachmentInput) (*Proposal, error) {
	c, err := s.attachable(ctx, pr, cycleID, id)
	if err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	a := Attachment{ID: newID(), Kind: in.Kind, Text: in.Text, AddedAt: s.now()}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		// Counted in the transaction that adds, so two forms sent at once cannot pass
		// the bound together on PostgreSQL either (the proposal's row is locked by
		// the update that follows on both databases).
		if err := touchProposal(ctx, tx, id, a.AddedAt); err != nil {
			return err
		}
		n, err := countAttachments(ctx, tx, id)
		if err != nil {
			return err
		}
		if n >= maxAttachments {
			return sdk.Invalid(in.Kind, RuleMaxAttachments, "a proposal has at most 10 photos and documents; remove one first")
		}
		return insertAttachment(ctx, tx, id, "", pr.UserID, a, in.UploadID)
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, pr, "budgeting.proposal.attach", c.nbh(), id, map[string]any{"attachment": a.ID, "kind": a.Kind})
	return s.Proposal(ctx, cycleID, id)
}

// RemoveAttachment takes a photo or a document off a proposal. The file stays with
// the host; nothing links to it any more.
func (s *Service) RemoveAttachment(ctx context.Context, pr sdk.Principal, cycleID, id, attachmentID string) (*Proposal, error) {
	c, err := s.attachable(ctx, pr, cycleID, id)
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := deleteAttachment(ctx, tx, id, attachmentID); err != nil {
			return err
		}
		return touchProposal(ctx, tx, id, s.now())
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, pr, "budgeting.proposal.detach", c.nbh(), id, map[string]any{"attachment": attachmentID})
	return s.Proposal(ctx, cycleID, id)
}

// withAttachments fills in p's updates and files, and each update's photos.
func withAttachments(ctx context.Context, db q, p *Proposal) error {
	var err error
	if p.Updates, err = listUpdates(ctx, db, p.ID); err != nil {
		return err
	}
	own, byUpdate, err := listAttachments(ctx, db, p.ID)
	if err != nil {
		return err
	}
	p.Attachments = own
	for i := range p.Updates {
		if ph := byUpdate[p.Updates[i].id]; ph != nil {
			p.Updates[i].Photos = ph
		}
	}
	return nil
}
