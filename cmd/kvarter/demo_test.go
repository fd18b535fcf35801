package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/core/password"
)

// demoRow is one line of the table `kvarter demo` prints.
type demoRow struct{ Email, Role, Password string }

// parseDemoTable reads the table under the EMAIL ROLE PASSWORD header.
func parseDemoTable(t *testing.T, out string) []demoRow {
	t.Helper()
	_, table, ok := strings.Cut(out, "EMAIL")
	if !ok {
		t.Fatalf("no table in the output:\n%s", out)
	}
	var rows []demoRow
	for _, line := range strings.Split(table, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 3 {
			t.Fatalf("table line %q has no role or password", line)
		}
		rows = append(rows, demoRow{Email: f[0], Role: strings.Join(f[1:len(f)-1], " "), Password: f[len(f)-1]})
	}
	return rows
}

// demoConfig writes a city config for db that runs no plugins (the demo's core steps
// need none) and logs everything, so that a password logged anywhere would show.
func demoConfig(t *testing.T, db coretest.DB) string {
	t.Helper()
	cfg := map[string]any{"data_dir": db.Config.DataDir, "log_level": "debug", "plugins": []any{},
		"database_max_connections": db.Config.DatabaseMaxConnections}
	if db.Config.DatabaseURL != "" {
		cfg["database_url"] = db.Config.DatabaseURL
	}
	path := filepath.Join(t.TempDir(), "city.json")
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tableCounts counts the rows of the tables a demo run writes to.
func tableCounts(t *testing.T, cfg node.Config) map[string]int {
	t.Helper()
	db, err := node.OpenDB(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]int{}
	for _, table := range []string{"users", "sessions", "neighbourhoods", "memberships", "organisations", "organisation_members", "role_grants", "audit_log", "schema_migrations"} {
		var n int
		if err := db.SQL().Get(&n, `SELECT COUNT(*) FROM `+table); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

// TestMain_Demo runs `kvarter demo` on an empty city and checks what it made through
// the API, as the people it printed: every password signs in, each person has the
// role the table gives them; then a second run refuses and changes nothing.
func TestMain_Demo(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		cfgPath := demoConfig(t, db)
		m, out, errOut := newTestMain(t, db.Config.DataDir)
		env := m.Getenv
		m.Getenv = func(k string) string {
			if k == "KVARTER_LOG_LEVEL" {
				return "debug" // everything that is logged at all
			}
			return env(k)
		}
		if code := m.Run(t.Context(), []string{"demo", "--config", cfgPath}); code != 0 {
			t.Fatalf("demo = %d\n%s", code, errOut)
		}
		rows := parseDemoTable(t, out.String())
		if len(rows) != 1+len(demoCoordinatorNames)+len(demoResidentNames) {
			t.Fatalf("the table has %d people, want %d", len(rows), 1+len(demoCoordinatorNames)+len(demoResidentNames))
		}
		if n := len(demoResidentNames); n < 30 || n > 50 {
			t.Errorf("%d residents, want 30–50", n)
		}
		emails, passwords := map[string]bool{}, map[string]bool{}
		pwShape := regexp.MustCompile(`^[a-z2-9]{5}(-[a-z2-9]{5}){3}$`)
		for _, r := range rows {
			if emails[r.Email] || passwords[r.Password] {
				t.Errorf("%s: email or password printed twice", r.Email)
			}
			emails[r.Email], passwords[r.Password] = true, true
			if !pwShape.MatchString(r.Password) {
				t.Errorf("%s: password %q is not four groups of five", r.Email, r.Password)
			}
		}

		// Nothing of the passwords reaches the logs (at debug level), the audit log or
		// any stored column.
		var stored strings.Builder
		sqlDB, err := node.OpenDB(t.Context(), db.Config)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{`SELECT CAST(detail AS TEXT) || action || target FROM audit_log`,
			`SELECT COALESCE(password_hash, '') || COALESCE(email, '') || display_name FROM users`, `SELECT note FROM memberships`} {
			var col []string
			if err := sqlDB.SQL().Select(&col, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			stored.WriteString(strings.Join(col, "\n"))
		}
		sqlDB.Close()
		if !strings.Contains(errOut.String(), `"level":"INFO"`) {
			t.Errorf("the demo logged nothing below WARN, so the check below would prove nothing:\n%s", errOut)
		}
		for _, r := range rows {
			for _, pw := range []string{r.Password, strings.ReplaceAll(r.Password, "-", "")} {
				if strings.Contains(errOut.String(), pw) {
					t.Errorf("the password of %s is in the log", r.Email)
				}
				if strings.Contains(stored.String(), pw) {
					t.Errorf("the password of %s is stored readable", r.Email)
				}
			}
		}

		// A second run refuses, says why, prints no table and changes nothing.
		before := tableCounts(t, db.Config)
		m, out2, errOut2 := newTestMain(t, db.Config.DataDir)
		if code := m.Run(t.Context(), []string{"demo", "--config", cfgPath}); code != 1 || !strings.Contains(errOut2.String(), "already has 53 account(s)") || out2.Len() != 0 {
			t.Fatalf("second demo = %d, stdout %q, stderr %q; want 1, nothing printed and the reason", code, out2, errOut2)
		}
		if after := tableCounts(t, db.Config); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("the refused run changed the city: %v, then %v", before, after)
		}
		if before["sessions"] != before["users"] {
			t.Errorf("%d sessions for %d people: the demo signs each in once", before["sessions"], before["users"])
		}

		// Every printed password signs in over the API, and each person is what the
		// table says.
		n := coretest.StartNode(t, db.Config, coretest.Options())
		clients := map[string]*coretest.Client{}
		coordinatorOf := map[string]*coretest.Client{} // by neighbourhood name
		verified, pending := 0, 0
		for _, r := range rows {
			c := coretest.NewClient(t, n)
			login := c.Must(200, "POST", "/api/v1/auth/login", map[string]string{"email": r.Email, "password": r.Password})
			c.Token, _ = login.JSON()["token"].(string)
			clients[r.Email] = c
			var me core.Me
			c.Must(200, "GET", "/api/v1/me", nil).Decode(t, &me)
			if me.User.Language != "tr" {
				t.Errorf("%s speaks %q, want tr: the city offers Turkish", r.Email, me.User.Language)
			}
			switch {
			case r.Role == "city admin":
				if !slices.Contains(me.Roles[core.DomainCity], core.RoleCityAdmin) {
					t.Errorf("the city admin %s has roles %v", r.Email, me.Roles)
				}
			case strings.HasPrefix(r.Role, "coordinator of "):
				coordinatorOf[strings.TrimPrefix(r.Role, "coordinator of ")] = c
				if !slices.ContainsFunc(mapValues(me.Roles), func(rs []string) bool { return slices.Contains(rs, core.RoleCoordinator) }) {
					t.Errorf("coordinator %s has roles %v", r.Email, me.Roles)
				}
			case strings.HasPrefix(r.Role, "resident of "):
				if len(me.Memberships) != 1 || me.Memberships[0].State != core.MembershipVerified || me.Memberships[0].Note == "" {
					t.Errorf("resident %s has memberships %+v, want one verified with a note", r.Email, me.Memberships)
				}
				verified++
			case strings.HasPrefix(r.Role, "asked to join "):
				if len(me.Memberships) != 1 || me.Memberships[0].State != core.MembershipRequested {
					t.Errorf("%s has memberships %+v, want one requested", r.Email, me.Memberships)
				}
				pending++
			default:
				t.Errorf("%s has the role %q", r.Email, r.Role)
			}
			if strings.Contains(r.Role, "representative of") != slices.ContainsFunc(me.Organisations, func(o core.OrganisationRoleRef) bool {
				return o.Role == core.OrgRoleRepresentative && o.Verified
			}) {
				t.Errorf("%s (%s) is in organisations %+v", r.Email, r.Role, me.Organisations)
			}
		}
		if verified < 25 || pending == 0 || verified <= pending {
			t.Errorf("%d verified residents and %d waiting: want most verified and some waiting", verified, pending)
		}

		// The city as the admin and the coordinators see it.
		admin := clients[rows[0].Email]
		var nbhs struct{ Items []core.Neighbourhood }
		admin.Must(200, "GET", "/api/v1/neighbourhoods?limit=100", nil).Decode(t, &nbhs)
		var names []string
		for _, nb := range nbhs.Items {
			names = append(names, nb.Name)
		}
		for _, want := range []string{"Karşıyaka", "Bornova", "Alsancak", "Buca", "Konak", "Bayraklı", "Göztepe"} {
			if !slices.Contains(names, want) {
				t.Errorf("no %s among the neighbourhoods %v", want, names)
			}
		}
		if len(names) != 12 {
			t.Errorf("%d neighbourhoods, want 12", len(names))
		}
		var orgs struct{ Items []core.Organisation }
		admin.Must(200, "GET", "/api/v1/organisations?state=verified", nil).Decode(t, &orgs)
		if len(orgs.Items) != 3 {
			t.Errorf("%d verified organisations, want 3", len(orgs.Items))
		}
		for _, o := range orgs.Items {
			var members struct{ Items []core.OrganisationMember }
			admin.Must(200, "GET", "/api/v1/organisations/"+o.ID+"/members", nil).Decode(t, &members)
			reps := 0
			for _, mb := range members.Items {
				if mb.Role == core.OrgRoleRepresentative {
					reps++
				}
			}
			if reps != 2 || len(members.Items) < 3 {
				t.Errorf("%s has %d members, %d representatives; want 2 representatives and members", o.Name, len(members.Items), reps)
			}
		}
		queue := 0
		for _, nb := range nbhs.Items {
			c := coordinatorOf[nb.Name]
			if c == nil {
				t.Errorf("%s has no coordinator in the table", nb.Name)
				continue
			}
			var ms struct{ Items []core.Membership }
			c.Must(200, "GET", "/api/v1/neighbourhoods/"+nb.ID+"/memberships?state=requested", nil).Decode(t, &ms)
			queue += len(ms.Items)
		}
		if queue != pending {
			t.Errorf("the coordinators' queues hold %d requests, the table %d", queue, pending)
		}
	})
}

func mapValues[K comparable, V any](m map[K]V) []V {
	var out []V
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestMain_DemoRefusesAUsedCity: one account made by `admin create-user` is enough for
// the demo to refuse, before it migrates or writes anything.
func TestMain_DemoRefusesAUsedCity(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		cfgPath := demoConfig(t, db)
		m, _, errOut := newTestMain(t, db.Config.DataDir)
		m.Stdin = strings.NewReader("a real administrator's passphrase\n")
		if code := m.Run(t.Context(), []string{"admin", "create-user", "--config", cfgPath, "--email", "it@city.example", "--password-stdin"}); code != 0 {
			t.Fatalf("create-user = %d %s", code, errOut)
		}
		before := tableCounts(t, db.Config)
		m, out, errOut := newTestMain(t, db.Config.DataDir)
		if code := m.Run(t.Context(), []string{"demo", "--config", cfgPath}); code != 1 || !strings.Contains(errOut.String(), "already has 1 account(s)") || out.Len() != 0 {
			t.Fatalf("demo on a used city = %d %q %q", code, out, errOut)
		}
		if after := tableCounts(t, db.Config); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("the refused run changed the city: %v, then %v", before, after)
		}
	})
}

func TestMain_DemoUsage(t *testing.T) {
	m, _, errOut := newTestMain(t, t.TempDir())
	if code := m.Run(t.Context(), []string{"demo", "extra"}); code != 2 || !strings.Contains(errOut.String(), "no arguments") {
		t.Errorf("demo extra = %d %q, want 2", code, errOut)
	}
}

// TestRunDemo_Steps: the extension point for plugins. A step that names a plugin the
// city does not run is skipped; a step that asks for a serving node gets one and acts
// as a demo person over the real API; everyone is signed out at the end.
func TestRunDemo_Steps(t *testing.T) {
	db := coretest.Databases(t)[0]
	n, err := node.New(t.Context(), db.Config, node.NewLogger(db.Config, io.Discard), coretest.Options())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close(context.Background())
	c := &demoCity{Node: n, Language: "tr"}
	var seen string
	steps := []demoStep{
		demoSteps[0],
		{Name: "absent", Plugin: "not-run-here", Fill: func(context.Context, *demoCity) error {
			t.Error("a step of a plugin the city does not run ran")
			return nil
		}},
		{Name: "api", Serve: true, Fill: func(ctx context.Context, c *demoCity) error {
			var me core.Me
			if err := c.API(ctx, c.Residents[0], "GET", "/api/v1/me", nil, &me); err != nil {
				return err
			}
			seen = me.User.Email
			return nil
		}},
	}
	if err := runDemo(t.Context(), c, steps, func(name string) bool { return name != "not-run-here" }); err != nil {
		t.Fatal(err)
	}
	if seen != c.Residents[0].Email {
		t.Errorf("the step acted as %q over the API, want %s", seen, c.Residents[0].Email)
	}
	if _, err := n.Identity.Authenticate(t.Context(), c.Residents[0].token); err == nil {
		t.Error("the demo's sessions outlive it")
	}

	// A failing step stops the demo with its name.
	c2 := &demoCity{Node: n, Language: "tr"}
	boom := errors.New("boom")
	err = runDemo(t.Context(), c2, []demoStep{{Name: "broken", Fill: func(context.Context, *demoCity) error { return boom }}}, func(string) bool { return true })
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "broken") {
		t.Errorf("a failing step = %v", err)
	}
	// c.API without a serving node is an error, not a request to nowhere.
	c3 := &demoCity{Node: n}
	if err := c3.API(t.Context(), &demoPerson{}, "GET", "/api/v1/me", nil, nil); err == nil {
		t.Error("API without Serve succeeded")
	}
}

func TestDemoPassword(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		seen := map[string]bool{}
		for range 200 {
			pw, err := demoPassword(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			if seen[pw] {
				t.Fatalf("%q twice", pw)
			}
			seen[pw] = true
			if problem := password.Check(pw, "someone@posta.example", "someone", "Some One"); problem != "" {
				t.Fatalf("%q: %s", pw, problem)
			}
		}
	})
	t.Run("Unbiased", func(t *testing.T) {
		// Bytes past the last whole round of the alphabet are thrown away, not folded
		// onto its first letters.
		in := append(bytes.Repeat([]byte{255}, 50), make([]byte, 20)...)
		pw, err := demoPassword(bytes.NewReader(in))
		if err != nil || pw != "aaaaa-aaaaa-aaaaa-aaaaa" {
			t.Errorf("demoPassword = %q %v", pw, err)
		}
	})
	t.Run("ErrRandom", func(t *testing.T) {
		if _, err := demoPassword(iotest.ErrReader(errors.New("no entropy"))); err == nil {
			t.Error("a failing random source gave a password")
		}
	})
}

func TestDemoEmail(t *testing.T) {
	for name, want := range map[string]string{
		"Gülşen Aydın":   "gulsen.aydin@x.example",
		"İpek Aksoy":     "ipek.aksoy@x.example",
		"İbrahim Toprak": "ibrahim.toprak@x.example",
		"Barış Uçar":     "baris.ucar@x.example",
	} {
		if got := demoEmail(name, "x.example"); got != want {
			t.Errorf("demoEmail(%q) = %q, want %q", name, got, want)
		}
		f := core.Fields{}
		if f.CheckEmail("email", demoEmail(name, "x.example")); f.Err() != nil {
			t.Errorf("%s: %v", name, f.Err())
		}
	}
}

// BenchmarkDemo fills a SQLite city with the production argon2id parameters: the
// time a newcomer waits (go test -run X -bench Demo ./cmd/kvarter).
func BenchmarkDemo(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		var out bytes.Buffer
		env := map[string]string{"KVARTER_DATA_DIR": dir, "KVARTER_LOG_LEVEL": "warn"}
		m := &Main{Stdout: &out, Stderr: io.Discard, Getenv: func(k string) string { return env[k] }, Options: node.Options{Builtins: []string{}}}
		b.StartTimer()
		if code := m.Run(context.Background(), []string{"demo"}); code != 0 {
			b.Fatalf("demo = %d", code)
		}
	}
}
