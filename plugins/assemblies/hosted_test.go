package assemblies_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/plugins/assemblies"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/ical"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// These tests run the plugin as its own process under a real `kvarter serve`
// (sdk/sdktest): real routing, casbin checks, Principal, host callbacks and store.

func eachHost(t *testing.T, fn func(t *testing.T, c *sdktest.Core, pg bool)) {
	t.Helper()
	sdktest.EachCore(t, sdktest.Options{Package: "./cmd/kvarter-assemblies", Name: "assemblies"}, func(t *testing.T, c *sdktest.Core, pg bool) {
		fn(t, c, pg)
	})
}

// town is a neighbourhood with an assembly, a chair and members, made through the API.
type town struct {
	c       *sdktest.Core
	nbh     string
	asm     string
	chair   *sdktest.Client
	members []*sdktest.Client // members[0] is the chair
}

func newTown(t *testing.T, c *sdktest.Core, name string, n int, rules map[string]any) *town {
	t.Helper()
	tw := &town{c: c, nbh: c.Neighbourhood(name)}
	body := map[string]any{"neighbourhood_id": tw.nbh, "name": name + " assembly", "charter": "Guide the municipality's projects.",
		"quorum_percent": 50, "majority": "simple", "secrecy": "named", "membership": "open"}
	for k, v := range rules {
		body[k] = v
	}
	var a assemblies.Assembly
	c.Admin().Must(201, "POST", "/api/v1/assemblies", body).Decode(t, &a)
	tw.asm = a.ID
	for i := range n {
		u := c.NewUser(fmt.Sprintf("%s-%d@example.org", strings.ToLower(name), i))
		c.VerifiedMember(u, tw.nbh)
		u.Must(201, "POST", tw.path("/members"), nil)
		tw.members = append(tw.members, u)
	}
	tw.chair = tw.members[0]
	c.Admin().Must(200, "POST", tw.path("/members/"+tw.chair.UserID+"/position"), map[string]any{"position": "chair"})
	return tw
}

func (tw *town) path(suffix string) string { return "/api/v1/assemblies/" + tw.asm + suffix }

// motionToVote drafts, tables and opens a vote on a motion.
func (tw *town) motionToVote(t *testing.T, title string) string {
	t.Helper()
	var m assemblies.Motion
	tw.members[1].Must(201, "POST", tw.path("/motions"), map[string]any{"title": title, "text": "Please."}).Decode(t, &m)
	tw.members[1].Must(200, "POST", tw.path("/motions/"+m.ID+"/table"), nil)
	tw.chair.Must(200, "POST", tw.path("/motions/"+m.ID+"/vote/open"), nil)
	return m.ID
}

func TestHosted_Story(t *testing.T) {
	eachHost(t, func(t *testing.T, c *sdktest.Core, _ bool) {
		tw := newTown(t, c, "Karsiyaka", 9, nil)
		anon := c.Anonymous()

		var members sdk.Page[assemblies.Member]
		anon.Must(200, "GET", tw.path("/members"), nil).Decode(t, &members)
		if len(members.Items) != 9 || members.Items[0].DisplayName == "" {
			t.Fatalf("members = %+v", members)
		}
		outsider := c.NewUser("outsider@example.org")
		if r := outsider.Do("POST", tw.path("/members"), nil); r.Status != 403 {
			t.Errorf("unverified outsider joined: %d %s", r.Status, r.Body)
		}

		start := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Minute)
		tw.chair.Must(201, "POST", tw.path("/meetings"), map[string]any{
			"title": "Spring assembly", "starts_at": start, "ends_at": start.Add(2 * time.Hour),
			"place": "Cultural centre; hall B", "agenda": []map[string]any{{"title": "Benches, trees and lights"}},
		})
		feed := anon.Must(200, "GET", tw.path("/calendar.ics"), nil)
		if err := ical.Validate(feed.Body); err != nil {
			t.Errorf("calendar feed through the host: %v\n%s", err, feed.Body)
		}
		if ct := feed.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/calendar") {
			t.Errorf("calendar content type %q", ct)
		}

		motion := tw.motionToVote(t, "Benches on the square")
		choices := []string{"yes", "yes", "yes", "yes", "no", "abstain"}
		cast := map[string]string{}
		for i, choice := range choices {
			voter := tw.members[i+1]
			voter.Must(201, "POST", tw.path("/motions/"+motion+"/vote/ballots"), map[string]any{"choice": choice})
			cast[voter.UserID] = choice
		}
		var closed struct {
			Outcome string            `json:"outcome"`
			Counts  assemblies.Counts `json:"counts"`
			Motion  assemblies.Motion `json:"motion"`
		}
		tw.chair.Must(200, "POST", tw.path("/motions/"+motion+"/vote/close"), nil).Decode(t, &closed)
		if closed.Outcome != "adopted" || closed.Counts != (assemblies.Counts{Yes: 4, No: 1, Abstain: 1}) {
			t.Fatalf("close = %s %+v", closed.Outcome, closed.Counts)
		}

		responder := c.NewUser("responder@example.org")
		c.Grant(responder, assemblies.RoleCityResponder, "city")
		if r := tw.chair.Do("POST", tw.path("/motions/"+motion+"/answer"), map[string]any{"decision": "accepted", "reasoning": "x"}); r.Status != 403 {
			t.Errorf("a resident answered for the city: %d", r.Status)
		}
		responder.Must(200, "POST", tw.path("/motions/"+motion+"/acknowledge"), nil)
		responder.Must(200, "POST", tw.path("/motions/"+motion+"/answer"), map[string]any{
			"decision": "partly_accepted", "reasoning": "Four benches this spring; the lights need next year's budget.",
		})

		var m assemblies.Motion
		anon.Must(200, "GET", tw.path("/motions/"+motion), nil).Decode(t, &m)
		var kinds []string
		for _, e := range m.Timeline {
			kinds = append(kinds, e.Kind)
		}
		want := []string{"drafted", "tabled", "vote_opened", "vote_closed", "submitted_to_city", "acknowledged", "answered"}
		if !slices.Equal(kinds, want) {
			t.Errorf("public timeline = %v, want %v", kinds, want)
		}
		if m.Answer == nil || m.Answer.Decision != "partly_accepted" || m.Answer.AnsweredBy != responder.UserID {
			t.Errorf("answer = %+v", m.Answer)
		}

		var pop assemblies.PopoloExport
		anon.Must(200, "GET", tw.path("/popolo"), nil).Decode(t, &pop)
		if len(pop.VoteEvents) != 1 {
			t.Fatalf("popolo vote events = %+v", pop.VoteEvents)
		}
		ve := pop.VoteEvents[0]
		got := map[string]string{}
		for _, v := range ve.Votes {
			got[v.VoterID] = v.Option
		}
		if fmt.Sprint(got) != fmt.Sprint(cast) {
			t.Errorf("popolo votes %v, cast %v", got, cast)
		}
		for _, cnt := range ve.Counts {
			n := 0
			for _, c := range cast {
				if c == cnt.Option {
					n++
				}
			}
			if cnt.Value != n {
				t.Errorf("popolo count %s = %d, ballots say %d", cnt.Option, cnt.Value, n)
			}
		}
		if ve.Result != "pass" {
			t.Errorf("popolo result %q", ve.Result)
		}
	})
}

func TestHosted_ConcurrentBallots(t *testing.T) {
	eachHost(t, func(t *testing.T, c *sdktest.Core, _ bool) {
		tw := newTown(t, c, "Alsancak", 3, nil)
		motion := tw.motionToVote(t, "Concurrent ballots")
		voter := tw.members[2]
		statuses := make([]int, 50)
		var wg sync.WaitGroup
		for i := range statuses {
			wg.Go(func() {
				statuses[i] = voter.Do("POST", tw.path("/motions/"+motion+"/vote/ballots"), map[string]any{"choice": []string{"yes", "no"}[i%2]}).Status
			})
		}
		wg.Wait()
		created := 0
		for _, s := range statuses {
			switch s {
			case 201:
				created++
			case 409:
			default:
				t.Errorf("ballot answered %d", s)
			}
		}
		if created != 1 {
			t.Errorf("%d of 50 concurrent ballots accepted, want exactly 1", created)
		}
		var closed struct {
			Counts assemblies.Counts `json:"counts"`
		}
		tw.chair.Must(200, "POST", tw.path("/motions/"+motion+"/vote/close"), nil).Decode(t, &closed)
		if closed.Counts.Total() != 1 {
			t.Errorf("counts %+v, want one ballot", closed.Counts)
		}
	})
}

// TestHosted_SecretVoteUnlinkable votes secretly through the host, then opens the
// plugin's own store as an operator would and checks every table: rows that name a
// voter hold no choice (a secret ballot is a sealed row), rows that hold a choice name
// no voter. (The in-process TestService_SecretVoteUnlinkable adds the permutation
// check; TestHosted_SecretBallotAttack reads below the tables: xmin, dumps, WAL.)
func TestHosted_SecretVoteUnlinkable(t *testing.T) {
	eachHost(t, func(t *testing.T, c *sdktest.Core, pg bool) {
		tw := newTown(t, c, "Bornova", 7, map[string]any{"secrecy": "secret"})
		motion := tw.motionToVote(t, "Secret")
		db := pluginStore(t, c, pg)
		countRows := func() int {
			var n int
			if err := db.Get(&n, `SELECT COUNT(*) FROM sealed_ballots`); err != nil {
				t.Fatal(err)
			}
			return n
		}
		choices := []string{"yes", "no", "abstain", "yes", "no", "yes"}
		for i, ch := range choices {
			r := tw.members[i+1].Must(201, "POST", tw.path("/motions/"+motion+"/vote/ballots"), map[string]any{"choice": ch})
			if strings.Contains(string(r.Body), `"choice"`) {
				t.Errorf("secret receipt repeats the choice: %s", r.Body)
			}
		}
		if n := countRows(); n != len(choices) {
			t.Errorf("%d sealed ballots for %d ballots", n, len(choices))
		}
		voterIDs := map[string]bool{}
		for _, m := range tw.members {
			voterIDs[m.UserID] = true
		}
		isChoice := map[string]bool{"yes": true, "no": true, "abstain": true}
		for _, table := range []string{"voters", "electorate", "secret_tally", "sealed_ballots", "secret_ballots", "named_ballots", "timeline", "motions", "kvarter_outbox", "members"} {
			rows, err := db.Queryx(`SELECT * FROM ` + table)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				row := map[string]any{}
				if err := rows.MapScan(row); err != nil {
					t.Fatal(err)
				}
				hasVoter, hasChoice := false, false
				for _, v := range row {
					s := fmt.Sprint(v)
					if b, ok := v.([]byte); ok {
						s = string(b)
					}
					hasVoter = hasVoter || voterIDs[s]
					hasChoice = hasChoice || isChoice[s]
				}
				if hasVoter && hasChoice {
					t.Errorf("%s row links a voter to a choice: %v", table, row)
				}
				if table == "sealed_ballots" {
					for col := range row {
						if !slices.Contains([]string{"motion_id", "user_id", "sealed"}, col) {
							t.Errorf("sealed_ballots has column %s", col)
						}
					}
				}
			}
			rows.Close()
		}
		var named int
		if err := db.Get(&named, `SELECT COUNT(*) FROM named_ballots`); err != nil || named != 0 {
			t.Errorf("secret vote wrote %d named ballots (%v)", named, err)
		}
		var closed struct {
			Counts assemblies.Counts `json:"counts"`
		}
		tw.chair.Must(200, "POST", tw.path("/motions/"+motion+"/vote/close"), nil).Decode(t, &closed)
		if closed.Counts != (assemblies.Counts{Yes: 3, No: 2, Abstain: 1}) {
			t.Errorf("counts %+v", closed.Counts)
		}
		var pop assemblies.PopoloExport
		c.Anonymous().Must(200, "GET", tw.path("/popolo"), nil).Decode(t, &pop)
		if len(pop.VoteEvents) != 1 || len(pop.VoteEvents[0].Votes) != 0 {
			t.Errorf("popolo of a secret vote: %+v", pop.VoteEvents)
		}
	})
}

// pluginStore opens the store kvarter provisioned for the plugin, read as an operator.
func pluginStore(t *testing.T, c *sdktest.Core, pg bool) *store.DB {
	t.Helper()
	cfg := sdk.StoreConfig{Dialect: sdk.DialectSQLite, DSN: "file:" + filepath.Join(c.DataDir, "plugins", "assemblies.db")}
	if pg {
		b, err := os.ReadFile(filepath.Join(c.DataDir, "city.json"))
		if err != nil {
			t.Fatal(err)
		}
		var city struct {
			DatabaseURL string `json:"database_url"`
			Prefix      string `json:"plugin_store_prefix"`
		}
		if err := json.Unmarshal(b, &city); err != nil {
			t.Fatal(err)
		}
		// The core's URL pins search_path to the core's schema; the plugin's is wanted.
		u, err := url.Parse(city.DatabaseURL)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Del("search_path")
		u.RawQuery = q.Encode()
		cfg = sdk.StoreConfig{Dialect: sdk.DialectPostgres, DSN: u.String(), Schema: city.Prefix + "assemblies"}
	}
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
