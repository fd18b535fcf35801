package consultations

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk/sdktest"
)

// hostOptions start the real kvarter with this plugin's own executable.
var hostOptions = sdktest.Options{Package: "./cmd/kvarter-consultations", Name: "consultations"}

// surveyBody is survey() for nbh as JSON, open from a minute ago for a day.
func surveyBody(nbh string) map[string]any {
	now := time.Now().UTC()
	return map[string]any{
		"kind": "survey", "title": "Cycling in Kallio", "background": "We plan new cycle lanes.",
		"what_next": "The committee decides in May.", "neighbourhoods": []string{nbh},
		"participation": "residents", "anonymous_allowed": true,
		"opens_at": now.Add(-time.Minute), "closes_at": now.Add(24 * time.Hour),
		"questions": []map[string]any{
			{"kind": "single", "prompt": "Do you cycle?", "required": true, "options": []string{"Yes", "No"}},
			{"kind": "scale", "prompt": "How often?", "required": true, "scale_min": 1, "scale_max": 5, "show_if": map[string]int{"question": 0, "option": 0}},
			{"kind": "text", "prompt": "Anything else?", "max_length": 200},
		},
	}
}

// TestHost_Survey is a survey's whole life through the real server and the plugin's
// own process, on both databases: staff prepare a survey with a dependent question and
// publish it; a verified resident answers and edits; an unverified person and a
// visitor are refused with their reasons; bad input is refused in the error format and
// changes nothing; staff close it, redact the free text, publish the results and the
// response; the participant is notified; a visitor reads the results and the CSV.
func TestHost_Survey(t *testing.T) {
	sdktest.EachCore(t, hostOptions, func(t *testing.T, core *sdktest.Core, pg bool) {
		nbh := core.Neighbourhood("Kallio")
		staff := core.NewUser("staff@example.org")
		core.Grant(staff, RoleStaff, "city")
		var c Consultation
		staff.Must(201, "POST", api, surveyBody(nbh)).Decode(t, &c)
		path := api + "/" + c.ID
		core.Anonymous().Must(404, "GET", path, nil) // a draft is staff's
		// The background's attachment: received and checked by the host, kept by id.
		var att Attachment
		decodeJSON(t, attach(t, core, staff, path, "plan.pdf", []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"), "Cycle plan"), 201, &att)
		if att.UploadID == "" || att.Name != "Cycle plan" || att.URL != "/uploads/"+att.UploadID {
			t.Errorf("attachment: %+v", att)
		}
		if r := attach(t, core, staff, path, "plan.pdf", []byte("MZ\x90\x00 not a pdf"), "Virus"); r.StatusCode != 422 {
			t.Errorf("a file that is no PDF nor image: %d", r.StatusCode)
		}
		staff.Must(200, "POST", path+"/publish", nil).Decode(t, &c)
		if len(c.Attachments) != 1 || c.Attachments[0].UploadID != att.UploadID {
			t.Errorf("published attachments: %+v", c.Attachments)
		}
		if c.Stage != StageOpen {
			t.Fatalf("stage %s after publishing, want open", c.Stage)
		}
		yes, no := c.Questions[0].Options[0].ID, c.Questions[0].Options[1].ID

		resident := core.NewUser("resident@example.org")
		core.VerifiedMember(resident, nbh)
		unverified := core.NewUser("new@example.org")
		answer := map[string]any{"answers": map[string]any{c.Questions[0].ID: map[string]any{"options": []string{yes}},
			c.Questions[1].ID: map[string]any{"value": 4}, c.Questions[2].ID: map[string]any{"text": "Call me, Anna, 040 123 4567"}}}

		// Refusals, each with its reason.
		refused := unverified.Must(403, "POST", path+"/answer", answer).JSON()
		if e := refused["error"].(map[string]any); e["fields"].(map[string]any)["rule"] != RuleResidents || e["message"] == "" {
			t.Errorf("unverified refusal: %v", refused)
		}
		core.Anonymous().Must(401, "POST", path+"/answer", answer)
		var el Eligibility
		unverified.Must(200, "GET", path+"/eligibility", nil).Decode(t, &el)
		if el.CanAnswer || el.Rule != RuleResidents || !strings.Contains(el.Message, "verified residents") {
			t.Errorf("eligibility of the unverified: %+v", el)
		}

		// Bad input: the error format, the same on both databases, nothing stored.
		for _, bad := range []struct {
			field, rule string
			body        any
		}{
			{"answers." + c.Questions[2].ID + ".text", "no_nul", map[string]any{"answers": map[string]any{
				c.Questions[0].ID: map[string]any{"options": []string{no}}, c.Questions[2].ID: map[string]any{"text": "a\x00b"}}}},
			{"answers." + c.Questions[2].ID + ".text", "max_length", map[string]any{"answers": map[string]any{
				c.Questions[0].ID: map[string]any{"options": []string{no}}, c.Questions[2].ID: map[string]any{"text": strings.Repeat("x", 5001)}}}},
			{"answers." + c.Questions[1].ID + ".value", "range", map[string]any{"answers": map[string]any{
				c.Questions[0].ID: map[string]any{"options": []string{yes}}, c.Questions[1].ID: map[string]any{"value": 1 << 40}}}},
			{"answers." + c.Questions[1].ID, RuleHidden, map[string]any{"answers": map[string]any{
				c.Questions[0].ID: map[string]any{"options": []string{no}}, c.Questions[1].ID: map[string]any{"value": 2}}}},
		} {
			resident.Do("POST", path+"/answer", bad.body).WantInvalid(t, bad.field, bad.rule)
		}
		for _, bad := range []struct {
			field, rule string
			change      func(b map[string]any)
		}{
			{"title", "no_nul", func(b map[string]any) { b["title"] = "Cycling\x00" }},
			{"title", "max_length", func(b map[string]any) { b["title"] = strings.Repeat("ö", 201) }},
			{"min_age", "range", func(b map[string]any) { b["min_age"] = 1 << 40 }},
			{"questions[1].show_if.question", "earlier_question", func(b map[string]any) {
				b["questions"].([]map[string]any)[1]["show_if"] = map[string]int{"question": 2, "option": 0}
			}},
		} {
			b := surveyBody(nbh)
			bad.change(b)
			staff.Do("POST", api, b).WantInvalid(t, bad.field, bad.rule)
		}
		var list struct{ Items []Consultation }
		staff.Must(200, "GET", api, nil).Decode(t, &list)
		if len(list.Items) != 1 {
			t.Errorf("%d consultations after refusals, want 1", len(list.Items))
		}
		resident.Must(404, "GET", path+"/answer", nil)

		// Answer, answer again (refused), edit.
		var a Answer
		resident.Must(201, "POST", path+"/answer", answer).Decode(t, &a)
		if a.EditableUntil == nil {
			t.Errorf("answer not editable: %+v", a)
		}
		resident.Must(409, "POST", path+"/answer", answer)
		answer["answers"].(map[string]any)[c.Questions[1].ID] = map[string]any{"value": 5}
		resident.Must(200, "PUT", path+"/answer", answer)
		resident.Must(200, "GET", path+"/answer", nil).Decode(t, &a)
		if *a.Answers[c.Questions[1].ID].Value != 5 {
			t.Errorf("edited answer: %+v", a)
		}
		second := core.NewUser("second@example.org")
		core.VerifiedMember(second, nbh)
		second.Must(201, "POST", path+"/answer", map[string]any{"anonymous": true, "answers": map[string]any{
			c.Questions[0].ID: map[string]any{"options": []string{no}}}})

		// The close, redaction, results, response.
		core.Anonymous().Must(404, "GET", path+"/results", nil)
		staff.Must(200, "POST", path+"/close", nil)
		resident.Must(409, "PUT", path+"/answer", answer)
		var texts struct{ Items []Text }
		staff.Must(200, "GET", path+"/texts", nil).Decode(t, &texts)
		if len(texts.Items) != 1 || texts.Items[0].State != TextPending {
			t.Fatalf("texts: %+v", texts)
		}
		staff.Must(409, "POST", path+"/results", nil)
		staff.Must(200, "PUT", path+"/texts/"+texts.Items[0].ID, map[string]any{"publish": true, "redacted": "Call me, [name], [phone]"})
		var res Results
		staff.Must(200, "POST", path+"/results", nil).Decode(t, &res)
		if res.Answers != 2 || res.Questions[0].Options[0].Count != 1 || res.Questions[1].Scale.Mean != 5 {
			t.Errorf("results: %+v", res)
		}
		staff.Must(200, "POST", path+"/response", map[string]any{"response": "Two new lanes are built in 2028, because most who answered cycle daily."})

		// A visitor reads the results and downloads the CSV; no unredacted text anywhere.
		visitor := core.Anonymous()
		pub := visitor.Must(200, "GET", path+"/results", nil)
		csv := visitor.Must(200, "GET", path+"/results.csv", nil)
		if !strings.HasPrefix(csv.Header.Get("Content-Type"), "text/csv") || !strings.Contains(string(csv.Body), "Call me, [name], [phone]") {
			t.Errorf("CSV: %s %s", csv.Header.Get("Content-Type"), csv.Body)
		}
		for _, body := range [][]byte{pub.Body, csv.Body} {
			if strings.Contains(string(body), "040 123") {
				t.Errorf("unredacted text published: %s", body)
			}
		}
		if !strings.Contains(string(pub.Body), "Two new lanes") {
			t.Errorf("results without the response: %s", pub.Body)
		}

		// Both participants are told, the anonymous one too.
		for _, who := range []*sdktest.Client{resident, second} {
			waitNotification(t, who, NotifyResponse)
		}
	})
}

// waitNotification polls who's notifications until one of kind arrives: the plugin's
// outbox relays it to the core after the commit.
func waitNotification(t *testing.T, who *sdktest.Client, kind string) {
	t.Helper()
	for i := 0; ; i++ {
		var list struct {
			Items []struct {
				Kind, Title string
			}
		}
		r := who.Must(http.StatusOK, "GET", "/api/v1/me/notifications", nil)
		if err := json.Unmarshal(r.Body, &list); err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(list.Items, func(n struct{ Kind, Title string }) bool { return n.Kind == kind }) {
			return
		}
		if i == 300 {
			t.Fatalf("%s got no %s notification: %s", who.Email, kind, r.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// answerOfRow is what a row of the store reveals about an answer: the option chosen
// for the first question, as written in the clear.
func answerOfRow(r sdktest.StoreRow) (string, bool) {
	content, ok := r.Values["content"]
	if !ok {
		return "", false
	}
	var a Answers
	if json.Unmarshal([]byte(content), &a) != nil {
		return "", false
	}
	for _, v := range a {
		if len(v.Options) == 1 {
			return v.Options[0], true
		}
	}
	return "", false
}

// TestHost_AnonymousAnswerAttack is the secret-ballot attack (DESIGN.md §13, as in
// budgeting's TestHost_BallotSecrecyAttack) on anonymous answers, through the real
// server and plugin process: residents answer anonymously, each choosing an option an
// attacker knows the distribution of, and the attacker who reads the plugin's store —
// every table and column, PostgreSQL's xmin and ctid, a pg_dump, SQLite's WAL replayed
// transaction by transaction — tries to pair residents with answers while the
// consultation is open and after it closed and the answers were opened.
func TestHost_AnonymousAnswerAttack(t *testing.T) {
	sdktest.EachCore(t, hostOptions, func(t *testing.T, core *sdktest.Core, pg bool) {
		nbh := core.Neighbourhood("Vallila")
		staff := core.NewUser("staff@example.org")
		core.Grant(staff, RoleStaff, "city")
		body := surveyBody(nbh)
		body["questions"] = []map[string]any{{"kind": "single", "prompt": "Which plan?", "required": true, "options": []string{"A", "B", "C", "D"}}}
		var c Consultation
		staff.Must(201, "POST", api, body).Decode(t, &c)
		path := api + "/" + c.ID
		staff.Must(200, "POST", path+"/publish", nil)
		truth := map[string]string{}
		for i := range 12 {
			v := core.NewUser(fmt.Sprintf("resident%d@example.org", i))
			core.VerifiedMember(v, nbh)
			choice := c.Questions[0].Options[i%4].ID
			v.Must(201, "POST", path+"/answer", map[string]any{"anonymous": true,
				"answers": map[string]any{c.Questions[0].ID: map[string]any{"options": []string{choice}}}})
			truth[v.UserID] = choice
		}
		sdktest.CheckSecret(t, "consultation open", core.ReadStore(), truth, answerOfRow)
		staff.Must(200, "POST", path+"/close", nil)
		staff.Must(200, "GET", path+"/results/preview", nil)
		after := core.ReadStore()
		sdktest.CheckSecret(t, "consultation closed", after, truth, answerOfRow)
		stored := map[string]int{}
		for _, r := range after.Tables {
			if r.Table == "sealed_answers" {
				t.Errorf("a sealed answer is left after the close: %v", r.Values)
			}
			if choice, ok := answerOfRow(r); ok && r.Table == "answers" {
				stored[choice]++
				if r.Values["user_id"] != "" {
					t.Errorf("an opened answer names a person: %v", r.Values)
				}
			}
		}
		for _, o := range c.Questions[0].Options {
			if stored[o.ID] != 3 {
				t.Errorf("option %s: %d answers stored after the close, want 3", o.Label, stored[o.ID])
			}
		}
		if pg && len(after.Dump) == 0 {
			t.Error("pg_dump returned no rows")
		}
		if !pg && len(after.WAL) == 0 {
			t.Error("no transaction replayed from the WAL")
		}
	})
}

// attach posts a file and its name as the attachment form, as the staff's page does.
func attach(t *testing.T, core *sdktest.Core, who *sdktest.Client, path, filename string, data []byte, name string) *http.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", filename)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.WriteField("name", name)
	mw.Close()
	req, err := http.NewRequest("POST", core.URL+path+"/attachments", &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+who.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// decodeJSON wants status and decodes the body into v.
func decodeJSON(t *testing.T, r *http.Response, status int, v any) {
	t.Helper()
	data, _ := io.ReadAll(r.Body)
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", r.StatusCode, status, data)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}
