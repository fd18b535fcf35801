package consultations

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
	"github.com/kvarter/kvarter/sdk/i18n/i18ntest"
	"github.com/kvarter/kvarter/sdk/sdktest"
	"github.com/kvarter/kvarter/sdk/store"
)

// TestCatalog checks every catalog file: each message in all five languages, with the
// same placeholders and the plural forms each language needs.
func TestCatalog(t *testing.T) { i18ntest.CheckCatalog(t, localeFiles) }

// TestManifest checks what the host shows without calling the plugin: roles,
// notification kinds and data uses in every language, and request limits documented.
func TestManifest(t *testing.T) {
	m := sdk.ManifestOf(New())
	if err := sdk.CheckNotificationKinds(m.Name, m.Notifications); err != nil {
		t.Fatal(err)
	}
	texts := map[string]map[string]string{}
	for _, r := range m.Roles {
		texts["role "+r.Name] = r.Labels
		texts["role description "+r.Name] = r.Descriptions
	}
	for _, k := range m.Notifications {
		texts["notification "+k.Name] = k.Labels
	}
	for _, d := range m.DataUses {
		texts["data use what "+d.ID], texts["data use why "+d.ID], texts["data use kept "+d.ID] = d.What, d.Why, d.Kept
	}
	for what, byLang := range texts {
		for _, lang := range i18n.Required {
			if strings.TrimSpace(byLang[lang]) == "" {
				t.Errorf("%s has no %s text", what, lang)
			}
		}
	}
	if !strings.Contains(strings.Join(m.Subscribes, ","), sdk.EventUserDeleted) {
		t.Error("the plugin is not subscribed to core.user.deleted")
	}
	sdktest.CheckRequestLimits(t, New())
}

// TestRoutes drives the route table through the SDK's harness, which checks the
// host's permission rules and every answer against the OpenAPI document.
func TestRoutes(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		h := sdktest.NewHarness(t, New(), sdktest.HarnessOptions{Store: cfg, Languages: []string{"fi", "en"}})
		h.Host.AddNeighbourhood(sdk.Neighbourhood{ID: "n1"})
		h.Host.AddUser(sdk.User{ID: "staff"})
		h.Host.Grant("staff", RoleStaff, sdk.DomainCity)
		h.Host.AddUser(sdk.User{ID: "res"})
		h.Host.AddMember("res", "n1")
		staff, res := h.As("staff"), h.As("res")
		in := surveyBody("n1")
		h.Must(403, res, "POST", api, in)
		var c Consultation
		h.Must(201, staff, "POST", api, in).Decode(t, &c)
		p := api + "/" + c.ID
		h.Must(404, sdk.Principal{}, "GET", p, nil)
		h.Must(200, staff, "PUT", p, in)
		h.Must(200, staff, "POST", p+"/publish", nil).Decode(t, &c)
		h.Must(409, staff, "DELETE", p, nil)
		h.Must(200, sdk.Principal{}, "GET", api+"?stage=open&neighbourhood=n1", nil)
		h.Must(422, sdk.Principal{}, "GET", api+"?stage=later", nil)
		h.Must(200, res, "GET", p+"/eligibility", nil)
		h.Must(404, res, "GET", p+"/answer", nil)
		answer := map[string]any{"answers": map[string]any{c.Questions[0].ID: map[string]any{"options": []string{c.Questions[0].Options[1].ID}},
			c.Questions[2].ID: map[string]any{"text": "Fewer cars"}}}
		h.Must(201, res, "POST", p+"/answer", answer)
		h.Must(409, res, "POST", p+"/answer", answer)
		h.Must(200, res, "PUT", p+"/answer", answer)
		h.Must(200, res, "GET", p+"/answer", nil)
		h.Must(400, res, "POST", p+"/answer", "{")
		h.Must(404, sdk.Principal{}, "GET", p+"/results", nil)
		h.Must(409, staff, "GET", p+"/texts", nil)
		h.Must(200, staff, "POST", p+"/close", nil)
		var texts sdk.Page[Text]
		h.Must(200, staff, "GET", p+"/texts", nil).Decode(t, &texts)
		h.Must(404, staff, "PUT", p+"/texts/nope", map[string]any{"publish": false})
		h.Must(404, staff, "PUT", p+"/texts/x%00y", map[string]any{"publish": false})
		h.Must(200, staff, "PUT", p+"/texts/"+texts.Items[0].ID, map[string]any{"publish": true, "redacted": "Fewer cars"})
		h.Must(200, staff, "GET", p+"/results/preview", nil)
		h.Must(409, staff, "POST", p+"/response", map[string]any{"response": "Too early"})
		h.Must(200, staff, "POST", p+"/results", nil)
		h.Must(200, staff, "POST", p+"/response", map[string]any{"response": "We keep the lanes."})
		h.Must(200, sdk.Principal{}, "GET", p+"/results", nil)
		csv := h.Must(200, sdk.Principal{}, "GET", p+"/results.csv", nil)
		if !strings.Contains(string(csv.Body), "Fewer cars") {
			t.Errorf("CSV: %s", csv.Body)
		}
		// NUL in a path or query is not found or refused alike on both databases.
		h.Must(404, sdk.Principal{}, "GET", api+"/x%00y", nil)
		h.Must(422, sdk.Principal{}, "GET", api+"?neighbourhood=x%00y", nil)
		var draft Consultation
		h.Must(201, staff, "POST", api, in).Decode(t, &draft)
		h.Must(404, staff, "DELETE", api+"/"+draft.ID+"/attachments/x%00y", nil)
		h.Must(204, staff, "DELETE", api+"/"+draft.ID, nil)
	})
}

// TestPlugin_ExportUser exports a person's named answer and, of an anonymous answer,
// only that they took part.
func TestPlugin_ExportUser(t *testing.T) {
	eachStore(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c1, c2 := f.published(survey()), f.published(survey())
		r := f.resident("r1", "n1")
		if _, err := f.svc.Submit(f.ctx, r, c1.ID, AnswerInput{Answers: answersOf(c1, 0, 2, nil, nil, "named text")}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Submit(f.ctx, r, c2.ID, AnswerInput{Answers: answersOf(c2, 0, 3, nil, nil, "secret text"), Anonymous: true}); err != nil {
			t.Fatal(err)
		}
		p := &Plugin{svc: f.svc}
		p.DB = db
		data, err := p.ExportUser(context.Background(), "r1")
		if err != nil {
			t.Fatal(err)
		}
		if len(data.Data["participation"].([]map[string]any)) != 2 || len(data.Data["answers"].([]map[string]any)) != 1 {
			t.Fatalf("export: %+v", data.Data)
		}
		all := fmt.Sprint(data.Data)
		if !strings.Contains(all, "named text") || strings.Contains(all, "secret text") {
			t.Errorf("export holds the wrong answers: %s", all)
		}
		for key := range data.Data {
			if data.Fields[key] == "" {
				t.Errorf("export key %s is not described", key)
			}
		}
	})
}
