package budgeting

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
	"github.com/kvarter/kvarter/sdk/store"
)

// Notifications (DESIGN.md §11): who hears of what, written into the outbox in the
// transaction of the change (store.Tx.Notify), worded from locales/notify.<tag>.toml in
// every city language. Voters come from the participation record (the voters table),
// never from the ballots: what someone voted for is secret, so "the voters of a
// project" are the cycle's voters. The core adds the followers of the cycle or the
// proposal; the person who acted is left out.

// Notification kinds.
const (
	NotifyPhaseOpened      = "budgeting.phase.opened"
	NotifyProposalReviewed = "budgeting.proposal.reviewed"
	NotifyResults          = "budgeting.results.published"
	NotifyProjectUpdated   = "budgeting.project.updated"
)

//go:embed locales/notify.*.toml
var notifyFiles embed.FS

// notifyCatalog words the plugin's notifications.
var notifyCatalog = sdk.NewNotifyCatalog(i18n.MustBundle(notifyFiles))

// notificationKinds are the manifest's kinds: what a person must act on or asked for
// comes at once, progress on projects in a weekly digest.
func notificationKinds() []sdk.NotificationKind {
	return []sdk.NotificationKind{
		notifyCatalog.Kind(NotifyPhaseOpened, sdk.DeliverImmediately),
		notifyCatalog.Kind(NotifyProposalReviewed, sdk.DeliverImmediately),
		notifyCatalog.Kind(NotifyResults, sdk.DeliverImmediately),
		notifyCatalog.Kind(NotifyProjectUpdated, sdk.DeliverWeekly),
	}
}

// Subjects people follow, and the pages notifications link to.
func cycleSubject(id string) string    { return "budgeting.cycle:" + id }
func proposalSubject(id string) string { return "budgeting.proposal:" + id }

func cycleLink(id string) string { return "/budgeting/cycles/" + id }
func proposalLink(cycleID, id string) string {
	return "/budgeting/cycles/" + cycleID + "/proposals/" + id
}

// notify words n in every city language and writes it in tx.
func (s *Service) notify(ctx context.Context, tx *store.Tx, n sdk.Notice) error {
	note, ok := notifyCatalog.Notification(s.languages, s.zone, n)
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

// votersOf are those who voted online in a cycle: the participation record, which
// holds no choice. An erased person's pseudonym is nobody to tell.
func votersOf(ctx context.Context, db q, cycleID string) ([]string, error) {
	ids := []string{}
	if err := sel(ctx, db, &ids, `SELECT user_id FROM voters WHERE cycle_id = ? AND user_id NOT LIKE 'erased:%' ORDER BY user_id`, cycleID); err != nil {
		return nil, fmt.Errorf("list voters to notify: %w", err)
	}
	return ids, nil
}

// notifyPhase tells the cycle's followers that a phase opened. Voters follow the cycle
// from the close of voting (a ballot is one statement and writes nothing but itself),
// so that they hear of the results and the projects.
func (s *Service) notifyPhase(ctx context.Context, tx *store.Tx, c *Cycle, to Phase) error {
	if to == PhaseResults || to == PhaseImplementation {
		voters, err := votersOf(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		for _, v := range voters {
			if err := follow(ctx, tx, v, cycleSubject(c.ID)); err != nil {
				return err
			}
		}
	}
	return s.notify(ctx, tx, sdk.Notice{Kind: NotifyPhaseOpened, Variant: string(to), Followers: []string{cycleSubject(c.ID)},
		Subject: cycleSubject(c.ID), Link: cycleLink(c.ID), Data: map[string]any{"Cycle": c.Name}})
}

// notifyReviewed tells a proposal's author, and its followers, how it was reviewed.
func (s *Service) notifyReviewed(ctx context.Context, tx *store.Tx, c *Cycle, p *Proposal, mergedInto, actor string) error {
	variant := map[string]string{StatusFeasible: "accepted", StatusInfeasible: "rejected", StatusMerged: "merged"}[p.Status]
	var recipients []string
	if p.AuthorID != "" {
		recipients = []string{p.AuthorID}
	}
	return s.notify(ctx, tx, sdk.Notice{Kind: NotifyProposalReviewed, Variant: variant, Recipients: recipients,
		Followers: []string{proposalSubject(p.ID)}, Except: actor, Subject: proposalSubject(p.ID), Link: proposalLink(c.ID, p.ID),
		Data: map[string]any{"Cycle": c.Name, "Proposal": p.Title, "Reason": p.Reason, "MergedInto": mergedInto}})
}

// notifyResults tells everyone who voted, and the cycle's followers, that the results
// are out.
func (s *Service) notifyResults(ctx context.Context, tx *store.Tx, c *Cycle, winners int, actor string) error {
	voters, err := votersOf(ctx, tx, c.ID)
	if err != nil {
		return err
	}
	return s.notify(ctx, tx, sdk.Notice{Kind: NotifyResults, Recipients: voters, Followers: []string{cycleSubject(c.ID)},
		Except: actor, Subject: cycleSubject(c.ID), Link: cycleLink(c.ID) + "/results",
		Data: map[string]any{"Cycle": c.Name, "Winners": winners}})
}

// notifyUpdate tells the project's followers and the cycle's voters of an
// implementation update.
func (s *Service) notifyUpdate(ctx context.Context, tx *store.Tx, c *Cycle, p *Proposal, note, actor string) error {
	voters, err := votersOf(ctx, tx, c.ID)
	if err != nil {
		return err
	}
	return s.notify(ctx, tx, sdk.Notice{Kind: NotifyProjectUpdated, Variant: p.Implementation, Recipients: voters,
		Followers: []string{proposalSubject(p.ID)}, Except: actor, Subject: proposalSubject(p.ID), Link: proposalLink(c.ID, p.ID),
		Data: map[string]any{"Cycle": c.Name, "Project": p.Title, "Note": note}})
}

// FollowCycle makes pr follow a cycle (or stop): its phases and results. Cycles are
// public, so anyone signed in may follow one that exists.
func (s *Service) FollowCycle(ctx context.Context, pr sdk.Principal, cycleID string, on bool) (sdk.FollowState, error) {
	if !pr.Authenticated() {
		return sdk.FollowState{}, sdk.Errorf(sdk.CodeUnauthenticated, "sign in first")
	}
	if _, err := findCycle(ctx, s.db, cycleID); err != nil {
		return sdk.FollowState{}, err
	}
	return s.db.Follow(ctx, pr.UserID, cycleSubject(cycleID), on)
}

// FollowProposal makes pr follow a proposal (or stop): its review and, once funded,
// its implementation. Proposals are public, so anyone signed in may follow one.
func (s *Service) FollowProposal(ctx context.Context, pr sdk.Principal, cycleID, id string, on bool) (sdk.FollowState, error) {
	if !pr.Authenticated() {
		return sdk.FollowState{}, sdk.Errorf(sdk.CodeUnauthenticated, "sign in first")
	}
	if _, err := findProposal(ctx, s.db, cycleID, id); err != nil {
		return sdk.FollowState{}, err
	}
	return s.db.Follow(ctx, pr.UserID, proposalSubject(id), on)
}

// zoneOf loads the city's time zone; UTC when none is set.
func zoneOf(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	return time.LoadLocation(name)
}
