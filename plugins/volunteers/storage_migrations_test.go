package volunteers

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// TestMigration_TimesAsMicroseconds applies the schema as it was (times as TEXT
// seconds), stores rows in that encoding — fractions of a second and an empty
// waitlisted_at among them — applies 0002 and reads back the exact instants, as BIGINT
// microseconds and through the storage code, with the constraints, cascades and
// indexes of the old schema still in force.
func TestMigration_TimesAsMicroseconds(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		ctx := context.Background()
		db := sdktest.StoreAt(t, cfg, &Plugin{}, "0001")
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, db.Rebind(q), args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		exec(`INSERT INTO skills (id, names, updated_at) VALUES ('cooking', '{"en":"Cooking"}', '2025-06-01T10:00:00Z')`)
		exec(`INSERT INTO profiles (user_id, skills, tags, languages, availability, unavailable, neighbourhoods,
			birth_date, created_at, updated_at)
			VALUES ('anna', '[]', '[]', '[]', '[]', '[]', '[]', '1990-01-01', '1999-12-31T23:59:59Z', '2025-06-02T05:06:07.123456Z')`)
		exec(`INSERT INTO opportunities (id, title, required_skills, preferred_skills, languages, state, created_at, updated_at)
			VALUES ('opp-1', 'Clean-up', '[]', '[]', '[]', 'published', '2025-06-01T10:00:00Z', '2025-06-01T10:00:00.5Z')`)
		exec(`INSERT INTO shifts (id, opportunity_id, starts_at, ends_at, capacity)
			VALUES ('sh-1', 'opp-1', '2025-06-07T07:00:00Z', '2025-06-07T10:30:00.25Z', 1)`)
		exec(`INSERT INTO applications (id, shift_id, opportunity_id, volunteer_id, status, origin, created_at, updated_at)
			VALUES ('app-1', 'sh-1', 'opp-1', 'anna', 'confirmed', 'applied', '2025-06-02T06:00:00Z', '2025-06-02T06:00:01Z')`)
		exec(`INSERT INTO applications (id, shift_id, opportunity_id, volunteer_id, status, origin, waitlisted_at, created_at, updated_at)
			VALUES ('app-2', 'sh-1', 'opp-1', 'bo', 'waitlisted', 'applied', '2025-06-03T10:11:12.000001Z', '2025-06-03T10:11:11Z', '2025-06-03T10:11:12.000001Z')`)

		if err := store.Migrate(ctx, db, (&Plugin{}).Migrations()); err != nil {
			t.Fatal(err)
		}

		at := func(s string) int64 {
			tm, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				t.Fatal(err)
			}
			return tm.UnixMicro()
		}
		for _, c := range []struct {
			query string
			want  int64
		}{
			{`SELECT updated_at FROM skills WHERE id = 'cooking'`, at("2025-06-01T10:00:00Z")},
			{`SELECT created_at FROM profiles WHERE user_id = 'anna'`, at("1999-12-31T23:59:59Z")},
			{`SELECT updated_at FROM profiles WHERE user_id = 'anna'`, at("2025-06-02T05:06:07.123456Z")},
			{`SELECT created_at FROM opportunities WHERE id = 'opp-1'`, at("2025-06-01T10:00:00Z")},
			{`SELECT updated_at FROM opportunities WHERE id = 'opp-1'`, at("2025-06-01T10:00:00.5Z")},
			{`SELECT starts_at FROM shifts WHERE id = 'sh-1'`, at("2025-06-07T07:00:00Z")},
			{`SELECT ends_at FROM shifts WHERE id = 'sh-1'`, at("2025-06-07T10:30:00.25Z")},
			{`SELECT created_at FROM applications WHERE id = 'app-1'`, at("2025-06-02T06:00:00Z")},
			{`SELECT updated_at FROM applications WHERE id = 'app-1'`, at("2025-06-02T06:00:01Z")},
			{`SELECT waitlisted_at FROM applications WHERE id = 'app-2'`, at("2025-06-03T10:11:12.000001Z")},
			{`SELECT created_at FROM applications WHERE id = 'app-2'`, at("2025-06-03T10:11:11Z")},
		} {
			var got int64
			if err := db.GetContext(ctx, &got, c.query); err != nil {
				t.Fatalf("%s: %v", c.query, err)
			}
			if got != c.want {
				t.Errorf("%s = %d, want %d (%s)", c.query, got, c.want, time.UnixMicro(c.want).UTC())
			}
		}
		var never sql.NullInt64
		if err := db.GetContext(ctx, &never, `SELECT waitlisted_at FROM applications WHERE id = 'app-1'`); err != nil || never.Valid {
			t.Errorf("an empty waitlisted_at became %+v (%v), want NULL", never, err)
		}

		// The storage code reads the same instants.
		st := newStorage(db)
		o, err := st.opportunity(ctx, db, "opp-1")
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Shifts) != 1 || !o.Shifts[0].End.Equal(time.Date(2025, 6, 7, 10, 30, 0, 250_000_000, time.UTC)) ||
			o.Shifts[0].Taken != 1 || o.Shifts[0].Waitlisted != 1 {
			t.Errorf("opportunity %+v", o)
		}
		p, err := st.profile(ctx, db, "anna")
		if err != nil || !p.UpdatedAt.Equal(time.Date(2025, 6, 2, 5, 6, 7, 123_456_000, time.UTC)) {
			t.Errorf("profile %+v %v", p, err)
		}
		next, ok, err := st.nextWaiting(ctx, db, "sh-1")
		if err != nil || !ok || next.ID != "app-2" || !next.waitlistedAt.Equal(time.Date(2025, 6, 3, 10, 11, 12, 1000, time.UTC)) {
			t.Errorf("next waiting %+v %v %v", next, ok, err)
		}

		// The old schema's rules still hold.
		if _, err := db.ExecContext(ctx, `INSERT INTO shifts (id, opportunity_id, starts_at, ends_at, capacity)
			VALUES ('sh-bad', 'opp-1', 2, 1, 1)`); err == nil {
			t.Error("a shift ending before it starts was stored")
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO applications (id, shift_id, opportunity_id, volunteer_id, status, origin, created_at, updated_at)
			VALUES ('app-3', 'sh-1', 'opp-1', 'anna', 'applied', 'applied', 1, 1)`); err == nil {
			t.Error("a second application of one volunteer for one shift was stored")
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO applications (id, shift_id, opportunity_id, volunteer_id, status, origin, created_at, updated_at)
			VALUES ('app-4', 'no-such-shift', 'opp-1', 'cy', 'applied', 'applied', 1, 1)`); err == nil {
			t.Error("an application for a shift that does not exist was stored")
		}
		wantIndexes := map[string][]string{
			"shifts":       {"shifts_opportunity", "shifts_starts_at"}, // the second from 0003
			"applications": {"applications_opportunity", "applications_shift", "applications_volunteer"},
		}
		for table, want := range wantIndexes {
			var names []string
			q := `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`
			if db.IsPostgres() {
				q = `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ? AND indexname NOT LIKE '%pkey' AND indexname NOT LIKE '%key'`
			}
			if err := db.SelectContext(ctx, &names, db.Rebind(q), table); err != nil {
				t.Fatal(err)
			}
			slices.Sort(names)
			if !slices.Equal(names, want) {
				t.Errorf("indexes of %s: %v, want %v", table, names, want)
			}
		}
		exec(`DELETE FROM opportunities WHERE id = 'opp-1'`)
		var left int
		if err := db.GetContext(ctx, &left, `SELECT (SELECT COUNT(*) FROM shifts) + (SELECT COUNT(*) FROM applications)`); err != nil || left != 0 {
			t.Errorf("%d shifts and applications outlived their opportunity (%v)", left, err)
		}
	})
}
