package volunteers

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// newHarness serves the plugin as the host would (sdk/sdktest): route, permission
// against the fixture's FakeHost, then the plugin's Handler, every answer checked
// against the generated OpenAPI document. The plugin shares the fixture's store, host
// and clock.
func newHarness(t *testing.T, f *fixture, cfg sdk.StoreConfig) *apiClient {
	t.Helper()
	h := sdktest.NewHarness(t, &Plugin{now: f.clock.Now}, sdktest.HarnessOptions{Host: f.host, Store: cfg,
		CityTimeZone: "Europe/Helsinki", Languages: []string{"fi", "en"}})
	return &apiClient{t: t, h: h}
}

// apiClient sends requests through the harness and decodes JSON answers.
type apiClient struct {
	t *testing.T
	h *sdktest.Harness
}

// do sends a request as p and returns the status, the decoded JSON body and the raw
// answer.
func (c *apiClient) do(p sdk.Principal, method, path string, body any) (int, map[string]any, *sdktest.Response) {
	c.t.Helper()
	r := c.h.Do(p, method, path, body)
	var out map[string]any
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(r.Body, &out); err != nil {
			c.t.Fatalf("%s %s: body not JSON: %v", method, path, err)
		}
	}
	return r.Status, out, r
}

func TestHandler_Story(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newFixture(t, cfg)
		c := newHarness(t, f, cfg)
		vol := sdk.Principal{UserID: "vol", Locale: "en"}
		f.host.AddUser(sdk.User{ID: "vol", DisplayName: "Vol", Email: "vol@example.org"})

		st, body, _ := c.do(vol, "GET", base+"/profile", nil)
		if st != 404 {
			t.Fatalf("profile before creation: %d %v", st, body)
		}
		profile := map[string]any{"skills": []string{"first_aid"}, "languages": []string{"fi"}, "birth_date": "1990-01-01",
			"availability": []map[string]string{{"day": "saturday", "start": "08:00", "end": "14:00"}}, "neighbourhoods": []string{"nbh-1"}}
		if st, body, _ = c.do(vol, "PUT", base+"/profile", profile); st != 200 {
			t.Fatalf("put profile: %d %v", st, body)
		}
		sat := f.saturday(9, 12, 2)
		st, body, _ = c.do(f.rep, "POST", base+"/opportunities", map[string]any{"organisation_id": "org-1", "title": "Clean-up",
			"neighbourhood_id": "nbh-1", "required_skills": []string{"first_aid"}, "min_age": 16,
			"shifts": []map[string]any{{"start": sat.Start, "end": sat.End, "capacity": 2}}})
		if st != 201 {
			t.Fatalf("create: %d %v", st, body)
		}
		oid := body["id"].(string)
		sid := body["shifts"].([]any)[0].(map[string]any)["id"].(string)
		o := base + "/opportunities/" + oid
		if st, body, _ = c.do(f.rep, "POST", o+"/publish", nil); st != 200 || body["state"] != StatePublished {
			t.Fatalf("publish: %d %v", st, body)
		}
		if st, body, _ = c.do(f.rep, "GET", o+"/shifts/"+sid+"/matches", nil); st != 200 || len(body["items"].([]any)) != 1 {
			t.Fatalf("matches: %d %v", st, body)
		}
		if reasons := body["items"].([]any)[0].(map[string]any)["reasons"].([]any); len(reasons) == 0 {
			t.Errorf("no reasons: %v", body)
		}
		if st, body, _ = c.do(f.rep, "GET", o+"/roster", nil); st != 200 || body["optimal"] != true {
			t.Fatalf("roster: %d %v", st, body)
		}
		st, body, _ = c.do(f.rep, "GET", base+"/roster?date=2025-06-07", nil)
		if st != 200 || body["optimal"] != true || len(body["assignments"].([]any)) != 1 ||
			!slices.Equal(body["opportunity_ids"].([]any), []any{oid}) {
			t.Fatalf("day roster: %d %v", st, body)
		}
		_, _, w := c.do(f.rep, "GET", base+"/roster?date=tomorrow", nil)
		w.WantInvalid(t, "date", RuleFormat)
		if st, body, _ = c.do(vol, "GET", base+"/roster?date=2025-06-07", nil); st != 403 {
			t.Fatalf("day roster for a volunteer: %d %v", st, body)
		}
		if st, body, _ = c.do(vol, "GET", base+"/recommendations", nil); st != 200 || len(body["items"].([]any)) != 1 {
			t.Fatalf("recommendations: %d %v", st, body)
		}
		st, body, _ = c.do(vol, "POST", o+"/shifts/"+sid+"/applications", nil)
		if st != 201 {
			t.Fatalf("apply: %d %v", st, body)
		}
		a := o + "/shifts/" + sid + "/applications/" + body["id"].(string)
		if st, body, _ = c.do(vol, "POST", o+"/shifts/"+sid+"/applications", nil); st != 409 {
			t.Errorf("apply twice: %d %v", st, body)
		}
		if st, body, _ = c.do(f.rep, "POST", a+"/accept", nil); st != 200 || body["status"] != StatusAccepted {
			t.Fatalf("accept: %d %v", st, body)
		}
		if st, body, _ = c.do(vol, "POST", a+"/confirm", nil); st != 200 || body["status"] != StatusConfirmed {
			t.Fatalf("confirm: %d %v", st, body)
		}
		if st, body, _ = c.do(f.rep, "GET", o+"/applications", nil); st != 200 {
			t.Fatalf("applications: %d %v", st, body)
		}
		if contact := body["items"].([]any)[0].(map[string]any)["contact"]; contact == nil {
			t.Errorf("no contact after acceptance: %v", body)
		}
		f.clock.Set(f.clock.Now().Add(7 * 24 * time.Hour))
		if st, body, _ = c.do(f.rep, "POST", a+"/attendance", map[string]any{"attended": true, "minutes": 150}); st != 200 {
			t.Fatalf("attendance: %d %v", st, body)
		}
		if st, body, _ = c.do(vol, "GET", base+"/hours", nil); st != 200 || body["total_minutes"] != float64(150) {
			t.Fatalf("hours: %d %v", st, body)
		}
		_, _, w = c.do(vol, "GET", base+"/hours?format=csv", nil)
		if ct := w.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") ||
			!strings.Contains(string(w.Body), "Clean-up") || !strings.Contains(string(w.Body), "total,,,,2.50") {
			t.Errorf("csv %s:\n%s", ct, w.Body)
		}
	})
}

func TestHandler_Errors(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newFixture(t, cfg)
		c := newHarness(t, f, cfg)
		vol := f.volunteer(t, "vol", nil)
		for _, tc := range []struct {
			name, method, path string
			who                sdk.Principal
			body               any
			status             int
			field, rule        string
		}{
			// Unreadable bodies are malformed (400); readable ones that break a rule are
			// invalid (422) and name the field and the rule.
			{"BadJSON", "PUT", base + "/profile", vol, "not an object", 400, "", ""},
			{"WrongType", "PUT", base + "/profile", vol, map[string]any{"birth_date": 1990}, 400, "birth_date", ""},
			{"MissingBirthDate", "PUT", base + "/profile", vol, map[string]any{}, 422, "birth_date", RuleFormat},
			{"FutureBirthDate", "PUT", base + "/profile", vol, map[string]any{"birth_date": "2999-01-01"}, 422, "birth_date", RuleNotFuture},
			{"UnknownSkill", "PUT", base + "/profile", vol, map[string]any{"birth_date": "1990-01-01", "skills": []string{"x"}}, 422, "skills", RuleKnownSkill},
			{"EndBeforeStart", "POST", base + "/opportunities", f.rep, map[string]any{"organisation_id": "org-1", "title": "T",
				"shifts": []map[string]any{{"start": f.saturday(12, 9, 1).Start, "end": f.saturday(12, 9, 1).End, "capacity": 1}}}, 422, "shifts[0].end", RuleEndAfterStart},
			{"NegativeCapacity", "POST", base + "/opportunities", f.rep, map[string]any{"organisation_id": "org-1", "title": "T",
				"shifts": []map[string]any{{"start": f.saturday(9, 12, 1).Start, "end": f.saturday(9, 12, 1).End, "capacity": -1}}}, 422, "shifts[0].capacity", sdk.RuleRange},
			{"NoTitle", "POST", base + "/opportunities", f.rep, map[string]any{"organisation_id": "org-1",
				"shifts": []map[string]any{{"start": f.saturday(9, 12, 1).Start, "end": f.saturday(9, 12, 1).End, "capacity": 1}}}, 422, "title", RuleRequired},
			{"BadSkillID", "PUT", base + "/skills/Not%20A%20Slug", f.staff, map[string]any{"names": map[string]string{"en": "X"}}, 422, "id", RuleFormat},
			{"BadCheckStatus", "PUT", base + "/profiles/vol/background-check", f.staff, map[string]any{"status": "maybe"}, 422, "status", RuleEnum},
			{"Unauthenticated", "GET", base + "/hours", sdk.Principal{}, nil, 401, "", ""},
			{"NotFound", "GET", base + "/opportunities/nope", vol, nil, 404, "", ""},
			{"BadFormat", "GET", base + "/hours?format=xml", vol, nil, 422, "format", RuleEnum},
			{"BadLimit", "GET", base + "/recommendations?limit=-3", vol, nil, 422, "limit", sdk.RuleRange},
		} {
			t.Run(tc.name, func(t *testing.T) {
				st, body, w := c.do(tc.who, tc.method, tc.path, tc.body)
				if st != tc.status {
					t.Fatalf("status %d, want %d: %v", st, tc.status, body)
				}
				e := body["error"].(map[string]any)
				if e["code"] == "" || e["message"] == "" || e["request_id"] == "" || e["request_id"] == nil {
					t.Errorf("error %v", e)
				}
				if tc.status == 400 && e["code"] != sdk.CodeMalformed {
					t.Errorf("code %v, want %s", e["code"], sdk.CodeMalformed)
				}
				if tc.status == 422 {
					w.WantInvalid(t, tc.field, tc.rule)
				} else if tc.field != "" {
					if _, ok := e["fields"].(map[string]any)[tc.field]; !ok {
						t.Errorf("field %s not named: %v", tc.field, e)
					}
				}
			})
		}
	})
}

// TestPlugin_Manifest: every route of the table is in the generated OpenAPI document,
// with an operationId, a summary and security when it needs sign-in, under a permission
// the manifest declares, with a handler.
func TestPlugin_Manifest(t *testing.T) {
	m := New().Manifest()
	var paths map[string]map[string]map[string]any
	if err := json.Unmarshal(m.OpenAPIDoc(), &paths); err != nil {
		t.Fatal(err)
	}
	perms := map[string]bool{sdk.PermPublic: true, sdk.PermAuthenticated: true}
	for _, p := range m.Permissions {
		perms[p.Name] = true
	}
	for _, r := range m.Routes {
		if r.Kind == sdk.RoutePage {
			continue // pages (pages*.go) answer HTML and stay out of the document
		}
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			op, ok := paths[r.Path][strings.ToLower(r.Method)]
			if !ok {
				t.Fatal("no OpenAPI operation")
			}
			if _, ok := op["security"]; !ok && r.Permission != sdk.PermPublic {
				t.Error("needs sign-in but declares no security")
			}
			if op["operationId"] == "" || op["summary"] == "" {
				t.Errorf("operationId %v, summary %v", op["operationId"], op["summary"])
			}
			if !perms[r.Permission] {
				t.Errorf("undeclared permission %s", r.Permission)
			}
			if r.Handler == nil {
				t.Error("no handler")
			}
		})
	}
}
