package consultations

import (
	"context"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Notifications of the idea board and its moderation (locales/ideas.<tag>.toml words
// them), each written into the outbox in the transaction of the change.
const (
	// NotifyIdeaStatus tells an idea's author and supporters what staff decided, with
	// the reason; one variant per status.
	NotifyIdeaStatus = "consultations.idea.status"
	// NotifyHidden tells an author that a moderator hid their idea or comment (variants
	// idea and comment), and that they may appeal once.
	NotifyHidden = "consultations.moderation.hidden"
	// NotifyDecided tells an author the decision on their appeal (variants upheld and
	// restored).
	NotifyDecided = "consultations.moderation.decided"
)

// notifyTitleBytes leaves a notification's title room for its words around an item's
// title; notifyReasonBytes leaves its body room for the words, the idea's clipped
// title and the board's title (MaxTitle characters of up to 4 bytes) around a reason.
const (
	notifyTitleBytes  = sdk.MaxNotificationTitle - 80
	notifyReasonBytes = sdk.MaxNotificationBody - notifyTitleBytes - 4*MaxTitle - 1024
)

// ideaNotificationKinds are the idea board's part of the manifest's notification kinds.
func ideaNotificationKinds() []sdk.NotificationKind {
	return []sdk.NotificationKind{
		notifyCatalog().Kind(NotifyIdeaStatus, sdk.DeliverImmediately),
		notifyCatalog().Kind(NotifyHidden, sdk.DeliverImmediately),
		notifyCatalog().Kind(NotifyDecided, sdk.DeliverImmediately),
	}
}

// tell writes n, worded in the city's languages, unless it tells nobody.
func (s *Service) tell(ctx context.Context, tx *store.Tx, n sdk.Notice) error {
	note, ok := notifyCatalog().Notification(s.languages, s.zone, n)
	if !ok {
		return nil
	}
	return tx.Notify(ctx, note)
}

// tellStatus tells an idea's author and supporters (to, less the staff member who
// decided and an erased author) staff's decision and its reason. The host bounds a
// notification's title and body in bytes (sdk.MaxNotificationTitle, ...Body), and a
// title or reason within its limit in characters can be four times as many bytes:
// both are clipped so that the notification fits, or the decision itself would fail.
func (s *Service) tellStatus(ctx context.Context, tx *store.Tx, c *Consultation, idea Idea, to []string, actor string) error {
	var recipients []string
	for _, id := range to {
		if id != "" && id != actor {
			recipients = append(recipients, id)
		}
	}
	return s.tell(ctx, tx, sdk.Notice{Kind: NotifyIdeaStatus, Variant: string(idea.Status), Recipients: recipients,
		Subject: IdeaSubject(idea.ID), Link: IdeaPath(c.ID, idea.ID),
		Data: map[string]any{"Title": clip(idea.Title+idea.hiddenTitle, notifyTitleBytes), "Board": c.Title,
			"Reason": clip(idea.StatusReason, notifyReasonBytes)}})
}

// tellHidden tells the author of what c hid, and where to appeal.
func (s *Service) tellHidden(ctx context.Context, tx *store.Tx, c Case) error {
	if c.authorID == "" {
		return nil // a former member: nobody to tell
	}
	return s.tell(ctx, tx, sdk.Notice{Kind: NotifyHidden, Variant: string(c.Target.Kind), Recipients: []string{c.authorID},
		Subject: caseSubject(c.ID), Link: CasePath(c.ID), Data: map[string]any{"Note": c.Note}})
}

// tellDecided tells the author the decision on their appeal.
func (s *Service) tellDecided(ctx context.Context, tx *store.Tx, c Case) error {
	if c.authorID == "" {
		return nil
	}
	return s.tell(ctx, tx, sdk.Notice{Kind: NotifyDecided, Variant: c.Decision, Recipients: []string{c.authorID},
		Subject: caseSubject(c.ID), Link: CasePath(c.ID), Data: map[string]any{"Reason": c.Reason}})
}
