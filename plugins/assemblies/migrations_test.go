package assemblies

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// oldStore opens a fresh store migrated to 0002 (times as TEXT) and runs inserts, the
// rows an older release wrote.
func oldStore(t *testing.T, cfg sdk.StoreConfig, inserts []string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db := sdktest.StoreAt(t, cfg, New().(*Plugin), "0002")
	for _, q := range inserts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return db
}

// oldRows are rows as 0001 stored them: fixed-width TEXT times to the microsecond, the
// empty string for "none". Times include sub-second values, the last microsecond of a year, a
// leap day and a time before 1970.
var oldRows = []string{
	`INSERT INTO assemblies (id, neighbourhood_id, name, majority, secrecy, membership, created_at)
		VALUES ('a1', 'n1', 'Assembly', 'simple', 'named', 'open', '2026-03-02T09:00:00.123456Z')`,
	`INSERT INTO members (assembly_id, user_id, kind, status, applied_at)
		VALUES ('a1', 'pending', 'resident', 'pending', '2026-12-31T23:59:59.999999Z')`,
	`INSERT INTO members (assembly_id, user_id, kind, status, term_start, term_end, applied_at, joined_at, ended_at)
		VALUES ('a1', 'left', 'resident', 'left', '2024-02-29T12:00:00.500000Z', '2025-02-28T12:00:00.000001Z',
		'2024-02-29T11:59:59.000000Z', '2024-02-29T12:00:00.500000Z', '2024-06-01T00:00:00.000010Z')`,
	`INSERT INTO meetings (id, assembly_id, title, starts_at, ends_at, status, created_at, updated_at)
		VALUES ('mt1', 'a1', 'Moon landing watch party', '1969-07-20T20:17:40.000001Z', '1969-07-21T02:56:15.000000Z',
		'scheduled', '2026-03-02T09:00:00.000007Z', '2026-03-03T10:00:00.654321Z')`,
	`INSERT INTO motions (id, assembly_id, kind, title, text, state, created_at, updated_at)
		VALUES ('draft', 'a1', 'motion', 'Draft', 'Text', 'draft', '2026-03-02T09:00:01.000001Z', '2026-03-02T09:00:02.000002Z')`,
	`INSERT INTO motions (id, assembly_id, kind, title, text, state, advice_due_at, secrecy, majority, quorum_percent,
		electorate, vote_opened_at, vote_closed_at, outcome, yes_count, answer_status, answer_due_at, answer_decision,
		answer_reasoning, answered_by, answered_at, created_at, updated_at)
		VALUES ('adopted', 'a1', 'consultation', 'Hours', 'Text', 'adopted', '2026-04-01T00:00:00.000000Z', 'named', 'simple', 50,
		1, '2026-03-10T18:30:00.250000Z', '2026-03-10T20:00:00.750000Z', 'adopted', 1, 'answered', '2026-04-09T20:00:00.750000Z',
		'accepted', 'Yes', 'city', '2026-04-10T08:00:00.000100Z', '2026-03-02T09:00:03.000003Z', '2026-04-10T08:00:00.000100Z')`,
	`INSERT INTO timeline (motion_id, at, kind) VALUES ('adopted', '2026-03-10T20:00:00.750000Z', 'vote_closed')`,
	`INSERT INTO outbox (id, type, payload, at) VALUES ('e1', 'assemblies.motion.adopted', '{}', '2026-03-10T20:00:00.750001Z')`,
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ptr(t time.Time) *time.Time { return &t }

func sameTime(t *testing.T, what string, got *time.Time, want string) {
	t.Helper()
	switch {
	case want == "" && got != nil:
		t.Errorf("%s = %s, want none", what, got)
	case want != "" && got == nil:
		t.Errorf("%s is none, want %s", what, want)
	case want != "" && !got.Equal(utc(want)):
		t.Errorf("%s = %s, want %s", what, got.Format(time.RFC3339Nano), want)
	}
}

// TestMigrations_MicrosecondTimes builds a store as release 0002 left it, with times
// as TEXT, applies 0003 and 0004 and reads every time back through the plugin's
// storage code: the same instants to the microsecond, and none where the old store
// had an empty string; the event left in the plugin's outbox is now in the SDK's.
func TestMigrations_MicrosecondTimes(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		db := oldStore(t, cfg, oldRows)
		if err := store.Migrate(ctx, db, New().(*Plugin).Migrations()); err != nil {
			t.Fatal(err)
		}
		now := utc("2026-05-01T00:00:00Z")

		a, err := getAssembly(ctx, db, "a1", now)
		if err != nil {
			t.Fatal(err)
		}
		sameTime(t, "assembly created_at", &a.CreatedAt, "2026-03-02T09:00:00.123456Z")

		pending, err := getMember(ctx, db, "a1", "pending")
		if err != nil {
			t.Fatal(err)
		}
		sameTime(t, "pending applied_at", ptr(pending.AppliedAt.Time), "2026-12-31T23:59:59.999999Z")
		for what, v := range map[string]*time.Time{"term_start": pending.TermStart.Ptr(),
			"term_end": pending.TermEnd.Ptr(), "joined_at": pending.JoinedAt.Ptr(), "ended_at": pending.EndedAt.Ptr()} {
			sameTime(t, "pending "+what, v, "")
		}
		left, err := getMember(ctx, db, "a1", "left")
		if err != nil {
			t.Fatal(err)
		}
		sameTime(t, "left term_start", left.TermStart.Ptr(), "2024-02-29T12:00:00.5Z")
		sameTime(t, "left term_end", left.TermEnd.Ptr(), "2025-02-28T12:00:00.000001Z")
		sameTime(t, "left applied_at", ptr(left.AppliedAt.Time), "2024-02-29T11:59:59Z")
		sameTime(t, "left joined_at", left.JoinedAt.Ptr(), "2024-02-29T12:00:00.5Z")
		sameTime(t, "left ended_at", left.EndedAt.Ptr(), "2024-06-01T00:00:00.00001Z")

		mt, err := getMeeting(ctx, db, "a1", "mt1")
		if err != nil {
			t.Fatal(err)
		}
		m := mt.meeting(time.Now())
		sameTime(t, "meeting starts_at", &m.StartsAt, "1969-07-20T20:17:40.000001Z")
		sameTime(t, "meeting ends_at", &m.EndsAt, "1969-07-21T02:56:15Z")
		sameTime(t, "meeting created_at", ptr(mt.CreatedAt.Time), "2026-03-02T09:00:00.000007Z")
		sameTime(t, "meeting updated_at", &m.UpdatedAt, "2026-03-03T10:00:00.654321Z")

		dr, err := getMotion(ctx, db, "a1", "draft")
		if err != nil {
			t.Fatal(err)
		}
		draft := dr.motion(now)
		sameTime(t, "draft created_at", &draft.CreatedAt, "2026-03-02T09:00:01.000001Z")
		sameTime(t, "draft updated_at", &draft.UpdatedAt, "2026-03-02T09:00:02.000002Z")
		sameTime(t, "draft advice_due_at", draft.AdviceDueAt, "")
		if draft.Vote != nil || draft.Answer != nil {
			t.Errorf("draft has a vote or answer: %+v %+v", draft.Vote, draft.Answer)
		}

		ad, err := getMotion(ctx, db, "a1", "adopted")
		if err != nil {
			t.Fatal(err)
		}
		adopted := ad.motion(now)
		sameTime(t, "advice_due_at", adopted.AdviceDueAt, "2026-04-01T00:00:00Z")
		sameTime(t, "vote opened_at", &adopted.Vote.OpenedAt, "2026-03-10T18:30:00.25Z")
		sameTime(t, "vote closed_at", adopted.Vote.ClosedAt, "2026-03-10T20:00:00.75Z")
		sameTime(t, "answer due_at", &adopted.Answer.DueAt, "2026-04-09T20:00:00.75Z")
		sameTime(t, "answered_at", adopted.Answer.AnsweredAt, "2026-04-10T08:00:00.0001Z")
		if !adopted.Answer.Overdue {
			t.Error("an answer given after its deadline is not marked late")
		}

		tl, err := timelineOf(ctx, db, "adopted")
		if err != nil || len(tl) != 1 {
			t.Fatalf("timeline %+v, %v", tl, err)
		}
		sameTime(t, "timeline at", &tl[0].At, "2026-03-10T20:00:00.75Z")
		// 0004 hands the event left in the plugin's outbox to the SDK's, as it was.
		var ev struct {
			ID, Type, Payload string
			At                store.Time `db:"occurred_at"`
		}
		if err := db.GetContext(ctx, &ev, `SELECT id, type, payload, occurred_at FROM kvarter_outbox`); err != nil {
			t.Fatal(err)
		}
		if ev.ID != "e1" || ev.Type != EventMotionAdopted || ev.Payload != "{}" {
			t.Errorf("moved event %+v", ev)
		}
		sameTime(t, "outbox at", &ev.At.Time, "2026-03-10T20:00:00.750001Z")
		var outboxes int
		if err := db.GetContext(ctx, &outboxes, db.Rebind(`SELECT COUNT(*) FROM `+map[string]string{
			sdk.DialectSQLite: `sqlite_master WHERE type = 'table' AND name = ?`, sdk.DialectPostgres: `pg_tables WHERE schemaname = current_schema() AND tablename = ?`,
		}[cfg.Dialect]), "outbox"); err != nil || outboxes != 0 {
			t.Errorf("the plugin's own outbox is still there: %d, %v", outboxes, err)
		}

		// The converted columns sort as times, and the lists read them in order.
		ms, err := listMotions(ctx, db, "a1", motionFilter{}, sdk.ListQuery{})
		if err != nil || len(ms) != 2 || ms[0].ID != "draft" {
			t.Errorf("motions in creation order: %+v, %v", ms, err)
		}
		members, err := listMembers(ctx, db, "a1", []string{MemberPending, MemberLeft}, sdk.ListQuery{})
		if err != nil || len(members) != 2 || members[0].UserID != "left" {
			t.Errorf("members in application order: %+v, %v", members, err)
		}
	})
}

// TestMigrations_MicrosecondTimesRefuseBadValues checks that 0003 stops at a stored
// time it cannot convert exactly, names it, and changes nothing.
func TestMigrations_MicrosecondTimesRefuseBadValues(t *testing.T) {
	bad := []struct{ name, insert, col, value string }{
		{"NoMicroseconds", `UPDATE assemblies SET created_at = '2026-03-02T09:00:00Z'`, "assemblies.created_at", "2026-03-02T09:00:00Z"},
		{"NotADay", `UPDATE members SET ended_at = '2026-02-30T09:00:00.000000Z' WHERE user_id = 'left'`, "members.ended_at", "2026-02-30T09:00:00.000000Z"},
		{"Words", `UPDATE motions SET answered_at = 'yesterday' WHERE id = 'adopted'`, "motions.answered_at", "yesterday"},
		{"EmptyButRequired", `UPDATE timeline SET at = ''`, "timeline.at", ""},
		{"LocalTime", `UPDATE meetings SET starts_at = '2026-03-02 09:00:00.000000'`, "meetings.starts_at", "2026-03-02 09:00:00.000000"},
	}
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		for _, b := range bad {
			t.Run(b.name, func(t *testing.T) {
				fresh := sdktest.SQLiteStore(t)
				if cfg.Dialect == sdk.DialectPostgres {
					fresh = sdktest.PostgresStore(t)
				}
				ctx := context.Background()
				db := oldStore(t, fresh, append(oldRows[:len(oldRows):len(oldRows)], b.insert))
				err := store.Migrate(ctx, db, New().(*Plugin).Migrations())
				if err == nil {
					t.Fatal("migrated a store holding a time it cannot convert")
				}
				want := b.col + " holds '" + b.value + "', which is not a time in the format 2006-01-02T15:04:05.000000Z"
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\nwant it to say %q", err, want)
				}
				var applied int
				if err := db.GetContext(ctx, &applied, `SELECT COUNT(*) FROM schema_migrations WHERE name LIKE '0003%'`); err != nil || applied != 0 {
					t.Errorf("0003 recorded as applied: %d, %v", applied, err)
				}
				table, col, _ := strings.Cut(b.col, ".")
				var kept string
				if err := db.GetContext(ctx, &kept, `SELECT `+col+` FROM `+table+` WHERE `+col+` = '`+b.value+`'`); err != nil {
					t.Errorf("the bad value is not left as it was: %v", err)
				}
				var created string
				if err := db.GetContext(ctx, &created, `SELECT created_at FROM motions WHERE id = 'draft'`); err != nil || created != "2026-03-02T09:00:01.000001Z" {
					t.Errorf("another time changed: %q, %v", created, err)
				}
			})
		}
	})
}
