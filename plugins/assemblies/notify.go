package assemblies

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
	"github.com/kvarter/kvarter/sdk/store"
)

// Notifications (DESIGN.md §11): who hears of what, written into the outbox in the
// transaction of the step (store.Tx.Notify), worded from locales/notify.<tag>.toml in
// every city language. The plugin resolves its own audiences: members and the frozen
// electorate from its tables, voters from the participation record (the voters table,
// never the ballots), the city's responders from who has acted for the city; the core
// adds the followers of the motion or assembly. The person who acted is left out.

// Notification kinds.
const (
	NotifyMotionTabled     = "assemblies.motion.tabled"
	NotifyVoteOpened       = "assemblies.vote.opened"
	NotifyVoteClosed       = "assemblies.vote.closed"
	NotifyAcknowledged     = "assemblies.motion.acknowledged"
	NotifyAnswered         = "assemblies.motion.answered"
	NotifyImplemented      = "assemblies.motion.implemented"
	NotifyAnswerOverdue    = "assemblies.motion.answer_overdue"
	NotifyMeetingScheduled = "assemblies.meeting.scheduled"
	NotifyMeetingCancelled = "assemblies.meeting.cancelled"
	NotifyMinutesPublished = "assemblies.minutes.published"
	NotifySponsorInvited   = "assemblies.motion.sponsor_invited"
)

//go:embed locales/notify.*.toml
var notifyFiles embed.FS

// notifyCatalog words the plugin's notifications.
var notifyCatalog = sdk.NewNotifyCatalog(i18n.MustBundle(notifyFiles))

// notificationKinds are the manifest's kinds. What someone must act on or asked for
// (a vote to cast, the city's answer to a motion they backed) comes at once; news of
// the assembly's business comes in a digest.
func notificationKinds() []sdk.NotificationKind {
	return []sdk.NotificationKind{
		notifyCatalog.Kind(NotifyMotionTabled, sdk.DeliverDaily),
		notifyCatalog.Kind(NotifyVoteOpened, sdk.DeliverImmediately),
		notifyCatalog.Kind(NotifyVoteClosed, sdk.DeliverImmediately),
		notifyCatalog.Kind(NotifyAcknowledged, sdk.DeliverDaily),
		notifyCatalog.Kind(NotifyAnswered, sdk.DeliverImmediately),
		notifyCatalog.Kind(NotifyImplemented, sdk.DeliverImmediately),
		notifyCatalog.Kind(NotifyAnswerOverdue, sdk.DeliverImmediately),
		notifyCatalog.Kind(NotifyMeetingScheduled, sdk.DeliverDaily),
		notifyCatalog.Kind(NotifyMeetingCancelled, sdk.DeliverImmediately),
		notifyCatalog.Kind(NotifyMinutesPublished, sdk.DeliverWeekly),
		notifyCatalog.Kind(NotifySponsorInvited, sdk.DeliverImmediately),
	}
}

// Subjects people follow, and the pages notifications link to.
func assemblySubject(id string) string { return "assemblies.assembly:" + id }
func motionSubject(id string) string   { return "assemblies.motion:" + id }

func motionLink(assemblyID, id string) string { return "/assemblies/" + assemblyID + "/motions/" + id }
func meetingLink(assemblyID, id string) string {
	return "/assemblies/" + assemblyID + "/meetings/" + id
}

// notify words n in every city language and writes it in tx.
func (s *Service) notify(ctx context.Context, tx *store.Tx, n sdk.Notice) error {
	note, ok := notifyCatalog.Notification(s.Languages, s.Zone, n)
	if !ok {
		return nil
	}
	return tx.Notify(ctx, note)
}

// follow makes userID follow subject, as acting on it does.
func follow(ctx context.Context, tx *store.Tx, userID, subject string) error {
	if userID == "" {
		return nil
	}
	return tx.Follow(ctx, userID, subject, true)
}

// --- audiences ---

// activeMembers are the user IDs of the assembly's active members.
func activeMembers(ctx context.Context, q sqlx.ExtContext, assemblyID string, now time.Time) ([]string, error) {
	ids := []string{}
	err := sel(ctx, q, &ids, `SELECT user_id FROM members WHERE assembly_id = ? AND status = 'active'
		AND (term_end IS NULL OR term_end > ?) ORDER BY user_id`, assemblyID, store.Micros(now))
	if err != nil {
		return nil, fmt.Errorf("list members to notify: %w", err)
	}
	return ids, nil
}

// electorateOf are those who may vote on a motion, as frozen when the vote opened.
func electorateOf(ctx context.Context, q sqlx.ExtContext, motionID string) ([]string, error) {
	ids := []string{}
	if err := sel(ctx, q, &ids, `SELECT user_id FROM electorate WHERE motion_id = ? AND user_id NOT LIKE 'erased-%' ORDER BY user_id`, motionID); err != nil {
		return nil, fmt.Errorf("list electorate to notify: %w", err)
	}
	return ids, nil
}

// votersOf are those who voted on a motion: the participation record, which holds no
// choice. An erased person's pseudonym is nobody to tell.
func votersOf(ctx context.Context, q sqlx.ExtContext, motionID string) ([]string, error) {
	ids := []string{}
	if err := sel(ctx, q, &ids, `SELECT user_id FROM voters WHERE motion_id = ? AND user_id NOT LIKE 'erased-%' ORDER BY user_id`, motionID); err != nil {
		return nil, fmt.Errorf("list voters to notify: %w", err)
	}
	return ids, nil
}

// backers are the people a motion's fate concerns: its author, sponsors and voters.
func backers(ctx context.Context, q sqlx.ExtContext, m motionRow) ([]string, error) {
	sponsors, err := sponsorsOf(ctx, q, m.ID)
	if err != nil {
		return nil, err
	}
	voters, err := votersOf(ctx, q, m.ID)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, 1+len(sponsors)+len(voters))
	if m.AuthorID != "" {
		out = append(out, m.AuthorID)
	}
	return append(append(out, sponsors...), voters...), nil
}

// responders are the city's responders to tell that an answer is overdue. The core
// lists nobody by permission, so they are the people who have acted for the city in
// this plugin (acknowledged, answered, marked implemented or asked for advice) and
// still hold the answering permission.
func (s *Service) responders(ctx context.Context, q sqlx.ExtContext) ([]string, error) {
	ids := []string{}
	err := sel(ctx, q, &ids, `SELECT DISTINCT actor_id FROM timeline
		WHERE kind IN ('acknowledged', 'answered', 'implemented', 'consultation_requested') AND actor_id <> ''
		ORDER BY actor_id`)
	if err != nil {
		return nil, fmt.Errorf("list city responders: %w", err)
	}
	out := ids[:0]
	for _, id := range ids {
		ok, err := s.host.Can(ctx, id, PermMotionAnswer, sdk.DomainCity)
		if err != nil {
			return nil, fmt.Errorf("check responder: %w", err)
		}
		if ok {
			out = append(out, id)
		}
	}
	return out, nil
}

// --- what is told ---

// notifyTabled tells the assembly's members and followers that a motion is on the
// table.
func (s *Service) notifyTabled(ctx context.Context, tx *store.Tx, a Assembly, m motionRow, actor string) error {
	if err := follow(ctx, tx, actor, motionSubject(m.ID)); err != nil {
		return err
	}
	members, err := activeMembers(ctx, tx, a.ID, s.Now())
	if err != nil {
		return err
	}
	return s.notify(ctx, tx, sdk.Notice{Kind: NotifyMotionTabled, Recipients: members, Followers: []string{assemblySubject(a.ID)},
		Except: actor, Subject: motionSubject(m.ID), Link: motionLink(a.ID, m.ID),
		Data: map[string]any{"Assembly": a.Name, "Motion": m.Title}})
}

// notifyVoteOpened tells everyone who may vote.
func (s *Service) notifyVoteOpened(ctx context.Context, tx *store.Tx, a Assembly, m motionRow, actor string) error {
	electorate, err := electorateOf(ctx, tx, m.ID)
	if err != nil {
		return err
	}
	return s.notify(ctx, tx, sdk.Notice{Kind: NotifyVoteOpened, Recipients: electorate, Except: actor,
		Subject: motionSubject(m.ID), Link: motionLink(a.ID, m.ID),
		Data: map[string]any{"Assembly": a.Name, "Motion": m.Title}})
}

// notifyVoteClosed tells the members, the voters and the followers of the motion and
// the assembly the result. Voting follows the motion: each voter follows it from the
// close, which a ballot does not write itself (a ballot is one statement, and writes
// nothing but the ballot).
func (s *Service) notifyVoteClosed(ctx context.Context, tx *store.Tx, a Assembly, m motionRow, actor string) error {
	voters, err := votersOf(ctx, tx, m.ID)
	if err != nil {
		return err
	}
	for _, v := range voters {
		if err := follow(ctx, tx, v, motionSubject(m.ID)); err != nil {
			return err
		}
	}
	members, err := activeMembers(ctx, tx, a.ID, s.Now())
	if err != nil {
		return err
	}
	return s.notify(ctx, tx, sdk.Notice{Kind: NotifyVoteClosed, Variant: m.Outcome, Recipients: append(members, voters...),
		Followers: []string{motionSubject(m.ID), assemblySubject(a.ID)}, Except: actor,
		Subject: motionSubject(m.ID), Link: motionLink(a.ID, m.ID),
		Data: map[string]any{"Assembly": a.Name, "Motion": m.Title, "Yes": m.Yes, "No": m.No, "Abstain": m.Abstain}})
}

// notifyAnswerStep tells a motion's author, sponsors, voters and followers of the
// city's acknowledgement, answer or implementation.
func (s *Service) notifyAnswerStep(ctx context.Context, tx *store.Tx, a Assembly, m motionRow, step, actor string) error {
	recipients, err := backers(ctx, tx, m)
	if err != nil {
		return err
	}
	n := sdk.Notice{Recipients: recipients, Followers: []string{motionSubject(m.ID)}, Except: actor,
		Subject: motionSubject(m.ID), Link: motionLink(a.ID, m.ID),
		Data: map[string]any{"Assembly": a.Name, "Motion": m.Title}}
	switch step {
	case AnswerAcknowledged:
		n.Kind = NotifyAcknowledged
		n.Data["Due"] = m.AnswerDueAt.Time
	case AnswerAnswered:
		n.Kind, n.Variant = NotifyAnswered, m.AnswerDecision
		n.Data["Reasoning"] = m.AnswerReasoning
	case AnswerImplemented:
		n.Kind = NotifyImplemented
	default:
		return fmt.Errorf("notify: unknown answer step %q", step)
	}
	return s.notify(ctx, tx, n)
}

// notifyMeeting tells the assembly's members and followers that a meeting was
// scheduled or cancelled, or its minutes published.
func (s *Service) notifyMeeting(ctx context.Context, tx *store.Tx, a Assembly, m meetingRow, kind, actor string) error {
	return s.notifyMeetingAs(ctx, tx, a, m, kind, "", actor)
}

// VariantMeetingMoved words NotifyMeetingScheduled for a meeting given a new time: the
// same kind, so that a person who chose how to hear of meetings hears of the move the
// same way, but words that say the time changed.
const VariantMeetingMoved = "moved"

// notifyMeetingAs is notifyMeeting in variant's words ("" for the kind's own).
func (s *Service) notifyMeetingAs(ctx context.Context, tx *store.Tx, a Assembly, m meetingRow, kind, variant, actor string) error {
	members, err := activeMembers(ctx, tx, a.ID, s.Now())
	if err != nil {
		return err
	}
	return s.notify(ctx, tx, sdk.Notice{Kind: kind, Variant: variant, Recipients: members, Followers: []string{assemblySubject(a.ID)}, Except: actor,
		Subject: assemblySubject(a.ID), Link: meetingLink(a.ID, m.ID),
		Data: map[string]any{"Assembly": a.Name, "Meeting": m.Title, "Starts": m.StartsAt.Time, "Reason": m.CancelReason}})
}

// OverdueSweep is how often a running plugin looks for answers that became overdue.
const OverdueSweep = time.Hour

// maxOverduePerSweep bounds the motions one sweep handles; the next takes the rest.
const maxOverduePerSweep = 200

// NotifyOverdue tells the city's responders of each adopted motion whose answer has
// passed its deadline, once. The deadline's passing goes on the motion's public
// timeline (answer_overdue) in the transaction that writes the notification, under
// the motion's row lock, so nodes sweeping at once tell them once. It returns how
// many motions it marked.
func (s *Service) NotifyOverdue(ctx context.Context) (int, error) {
	now := s.Now()
	var due []struct {
		ID         string `db:"id"`
		AssemblyID string `db:"assembly_id"`
	}
	err := sel(ctx, s.db, &due, `SELECT id, assembly_id FROM motions WHERE `+overdue+`
		AND NOT EXISTS (SELECT 1 FROM timeline t WHERE t.motion_id = motions.id AND t.kind = 'answer_overdue')
		ORDER BY answer_due_at, id LIMIT ?`, store.Micros(now), maxOverduePerSweep)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	responders, err := s.responders(ctx, s.db)
	if err != nil {
		return 0, err
	}
	marked := 0
	for _, d := range due {
		var told bool
		a, err := s.Assembly(ctx, d.AssemblyID)
		if err != nil {
			return marked, err
		}
		err = s.db.InTx(ctx, func(tx *store.Tx) error {
			m, err := getMotionForUpdate(ctx, tx, s.dialect, a.ID, d.ID)
			if err != nil {
				return err
			}
			var earlier int
			if err := get(ctx, tx, &earlier, `SELECT COUNT(*) FROM timeline WHERE motion_id = ? AND kind = 'answer_overdue'`, m.ID); err != nil {
				return fmt.Errorf("check overdue notice: %w", err)
			}
			if earlier > 0 || (m.AnswerStatus != AnswerSubmitted && m.AnswerStatus != AnswerAcknowledged) {
				return nil // another node was first, or the city answered meanwhile
			}
			if err := addTimeline(ctx, tx, m.ID, now, "answer_overdue", "", map[string]any{"answer_due_at": m.AnswerDueAt.Time}); err != nil {
				return err
			}
			told = true
			return s.notify(ctx, tx, sdk.Notice{Kind: NotifyAnswerOverdue, Recipients: responders,
				Subject: motionSubject(m.ID), Link: motionLink(a.ID, m.ID),
				Data: map[string]any{"Assembly": a.Name, "Motion": m.Title, "Due": m.AnswerDueAt.Time}})
		})
		if err != nil {
			return marked, fmt.Errorf("overdue motion %s: %w", d.ID, err)
		}
		if told {
			marked++
		}
	}
	return marked, nil
}
