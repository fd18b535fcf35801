package sdk_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/openapi"
)

type noteIn struct {
	Text  string   `json:"text" max:"280" doc:"What the note says" example:"Bins on Tuesday"`
	Kind  string   `json:"kind,omitempty" enum:"info,warning"`
	Stars int      `json:"stars,omitempty" min:"0" max:"5"`
	Tags  []string `json:"tags,omitempty" max:"20"`
}

type note struct {
	ID        string     `json:"id" format:"uuid"`
	Text      string     `json:"text"`
	Kind      string     `json:"kind" enum:"info,warning"`
	Stars     int        `json:"stars"`
	Tags      []string   `json:"tags"`
	CreatedAt time.Time  `json:"created_at"`
	EditedAt  *time.Time `json:"edited_at"`
	Author    *string    `json:"author,omitempty"`
}

// notesTable is a small route table of every kind: typed JSON routes with and without
// bodies, a list, a raw iCalendar route, and a route that fails.
func notesTable() []sdk.Route {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	n := note{ID: "0198c0de-0000-7000-8000-000000000001", Text: "hi", Kind: "info", Tags: []string{}, CreatedAt: at}
	return []sdk.Route{
		sdk.Get("/api/v1/notes", sdk.PermPublic, func(r *http.Request) (sdk.Page[note], error) {
			q, err := sdk.ListParams(r)
			if err != nil {
				return sdk.Page[note]{}, err
			}
			return sdk.NewPage([]note{n}, q, func(n note) []any { return []any{n.ID} }), nil
		}).Doc("List notes", "Newest last."),
		sdk.Get("/api/v1/notes/{id}", sdk.PermPublic, func(r *http.Request) (note, error) {
			if r.PathValue("id") != n.ID {
				return note{}, sdk.Errorf(sdk.CodeNotFound, "There is no note %s.", r.PathValue("id"))
			}
			return n, nil
		}).With(sdk.Param{Name: "id", In: "path", Format: "uuid"}),
		sdk.Post("/api/v1/nbh/{nbh}/notes", "notes.note.write", func(r *http.Request, in noteIn) (note, error) {
			out := n
			out.Text, out.Stars = in.Text, in.Stars
			if in.Kind != "" {
				out.Kind = in.Kind
			}
			return out, nil
		}).In("nbh:{nbh}").Status(http.StatusCreated).Errors(409).Example(noteIn{Text: "hi"}, n),
		sdk.Delete("/api/v1/notes/{id}", sdk.PermAuthenticated, func(r *http.Request, _ sdk.NoBody) (sdk.NoBody, error) {
			return sdk.NoBody{}, nil
		}),
		sdk.Post("/api/v1/notes/{id}/fail", sdk.PermAuthenticated, func(r *http.Request, _ sdk.NoBody) (note, error) {
			return note{}, errors.New("the disk is on fire")
		}),
		sdk.Raw("GET", "/api/v1/notes/feed.ics", sdk.PermPublic, "text/calendar", func(w http.ResponseWriter, r *http.Request) error {
			if r.URL.Query().Get("broken") != "" {
				return sdk.InvalidField("broken", "is not a feed")
			}
			w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
			_, err := w.Write([]byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"))
			return err
		}).With(sdk.Param{Name: "broken", Type: "boolean"}).Errors(422),
	}
}

func serve(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	return rec
}

func errorCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" {
		t.Fatalf("not the error format: %s", rec.Body)
	}
	return e.Error.Code
}

func TestRoute_Constructors(t *testing.T) {
	routes := notesTable()
	post := routes[2]
	if post.Method != "POST" || post.Path != "/api/v1/nbh/{nbh}/notes" || post.Permission != "notes.note.write" ||
		post.Domain != "nbh:{nbh}" || post.SuccessStatus != 201 || !slices.Equal(post.ErrorStatuses, []int{409}) || post.Handler == nil {
		t.Fatalf("post route %+v", post)
	}
	if _, ok := post.Request.(noteIn); !ok {
		t.Errorf("request type %T", post.Request)
	}
	// Modifiers return copies: the original table entry is unchanged.
	if again := post.Status(202).Errors(410); again.SuccessStatus != 202 || post.SuccessStatus != 201 || len(post.ErrorStatuses) != 1 {
		t.Errorf("modifiers changed the original: %+v", post)
	}
	// The status modifier rebinds the handler.
	mux := sdk.Mux([]sdk.Route{post.Status(202)})
	if rec := serve(mux, "POST", "/api/v1/nbh/n1/notes", `{"text":"x"}`); rec.Code != 202 {
		t.Errorf("rebound status %d: %s", rec.Code, rec.Body)
	}
}

func TestMux(t *testing.T) {
	mux := sdk.Mux(notesTable())
	cases := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"get", "GET", "/api/v1/notes/0198c0de-0000-7000-8000-000000000001", "", 200, ""},
		{"not found by handler", "GET", "/api/v1/notes/nope", "", 404, "not_found"},
		{"no such path", "GET", "/api/v1/nothing", "", 404, "not_found"},
		{"created", "POST", "/api/v1/nbh/n1/notes", `{"text":"hello"}`, 201, ""},
		{"malformed", "POST", "/api/v1/nbh/n1/notes", `{"text":`, 400, "malformed"},
		{"wrong type", "POST", "/api/v1/nbh/n1/notes", `{"text":5}`, 400, "malformed"},
		{"unknown field", "POST", "/api/v1/nbh/n1/notes", `{"txt":"x"}`, 400, "malformed"},
		{"empty body", "POST", "/api/v1/nbh/n1/notes", ``, 400, "malformed"},
		{"too long", "POST", "/api/v1/nbh/n1/notes", `{"text":"` + strings.Repeat("a", 281) + `"}`, 422, "invalid"},
		{"out of range", "POST", "/api/v1/nbh/n1/notes", `{"text":"a","stars":6}`, 422, "invalid"},
		{"no body route, no body", "DELETE", "/api/v1/notes/x", ``, 204, ""},
		{"no body route, empty object", "DELETE", "/api/v1/notes/x", `{}`, 204, ""},
		{"no body route, a field", "DELETE", "/api/v1/notes/x", `{"a":1}`, 400, "malformed"},
		{"internal", "POST", "/api/v1/notes/x/fail", ``, 500, "internal"},
		{"raw", "GET", "/api/v1/notes/feed.ics", "", 200, ""},
		{"raw error", "GET", "/api/v1/notes/feed.ics?broken=1", "", 422, "invalid"},
	}
	doc := map[string]any{"paths": sdk.OpenAPIPaths(notesTable())}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := serve(mux, c.method, c.path, c.body)
			if rec.Code != c.status {
				t.Fatalf("%s %s = %d, want %d: %s", c.method, c.path, rec.Code, c.status, rec.Body)
			}
			if c.code != "" && errorCode(t, rec) != c.code {
				t.Errorf("code %s, want %s", errorCode(t, rec), c.code)
			}
			if c.name == "no such path" {
				return // not a documented route
			}
			if err := openapi.CheckResponseType(doc, c.method, c.path, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes()); err != nil {
				t.Errorf("the document does not describe the answer: %v", err)
			}
		})
	}
	if body := serve(mux, "POST", "/api/v1/nbh/n1/notes", `{"text":"a","stars":6}`).Body.String(); !strings.Contains(body, `"stars"`) || !strings.Contains(body, `"rule":"range"`) {
		t.Errorf("a 422 names the field and the rule: %s", body)
	}

	t.Run("405 with Allow", func(t *testing.T) {
		rec := serve(mux, "PUT", "/api/v1/notes/abc", `{}`)
		if rec.Code != 405 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		allow := strings.Split(strings.ReplaceAll(rec.Header().Get("Allow"), " ", ""), ",")
		slices.Sort(allow)
		if !slices.Equal(allow, []string{"DELETE", "GET", "HEAD"}) {
			t.Errorf("Allow %q", rec.Header().Get("Allow"))
		}
		if errorCode(t, rec) != sdk.CodeMethodNotAllowed || !strings.Contains(rec.Body.String(), "PUT") {
			t.Errorf("body %s", rec.Body)
		}
	})
	t.Run("HEAD where GET works", func(t *testing.T) {
		get := serve(mux, "GET", "/api/v1/notes", "")
		head := serve(mux, "HEAD", "/api/v1/notes", "")
		if head.Code != 200 || head.Body.Len() != 0 || head.Header().Get("Content-Type") != get.Header().Get("Content-Type") {
			t.Errorf("HEAD = %d %q %q, GET = %d %q", head.Code, head.Header().Get("Content-Type"), head.Body, get.Code, get.Header().Get("Content-Type"))
		}
		if rec := serve(mux, "HEAD", "/api/v1/nbh/n1/notes", ""); rec.Code != 405 {
			t.Errorf("HEAD of a POST-only path = %d", rec.Code)
		}
	})
}

func TestMux_NoHandler(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a route without a handler was accepted")
		}
	}()
	sdk.Mux([]sdk.Route{{Method: "GET", Path: "/api/v1/x", Permission: sdk.PermPublic}})
}

func TestOpenAPI(t *testing.T) {
	routes := notesTable()
	var paths map[string]map[string]map[string]any
	if err := json.Unmarshal(sdk.OpenAPI(routes), &paths); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range routes {
		op := paths[r.Path][strings.ToLower(r.Method)]
		if op == nil {
			t.Fatalf("%s %s is not documented", r.Method, r.Path)
		}
		id, _ := op["operationId"].(string)
		if id == "" || ids[id] {
			t.Errorf("%s %s: operationId %q missing or taken", r.Method, r.Path, id)
		}
		ids[id] = true
		_, secured := op["security"]
		if secured != (r.Permission != sdk.PermPublic) {
			t.Errorf("%s %s (%s): security present = %v", r.Method, r.Path, r.Permission, secured)
		}
		responses := op["responses"].(map[string]any)
		for _, want := range []string{"500", "503"} {
			if responses[want] == nil {
				t.Errorf("%s %s lacks %s", r.Method, r.Path, want)
			}
		}
		if r.Permission != sdk.PermPublic && (responses["401"] == nil || responses["403"] == nil) {
			t.Errorf("%s %s needs sign-in but documents no 401/403", r.Method, r.Path)
		}
	}
	if id := paths["/api/v1/notes/{id}"]["get"]["operationId"]; id != "getNotesId" {
		t.Errorf("derived operationId %v", id)
	}

	post := paths["/api/v1/nbh/{nbh}/notes"]["post"]
	body := post["requestBody"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)
	props := body["schema"].(map[string]any)["properties"].(map[string]any)
	text := props["text"].(map[string]any)
	if text["maxLength"] != 280.0 || text["description"] != "What the note says" || text["example"] != "Bins on Tuesday" {
		t.Errorf("text schema %v", text)
	}
	if kind := props["kind"].(map[string]any); !slices.Equal(toStrings(kind["enum"]), []string{"info", "warning"}) {
		t.Errorf("kind schema %v", kind)
	}
	if stars := props["stars"].(map[string]any); stars["minimum"] != 0.0 || stars["maximum"] != 5.0 {
		t.Errorf("stars schema %v", stars)
	}
	if tags := props["tags"].(map[string]any); tags["type"] != "array" || tags["items"].(map[string]any)["maxLength"] != 20.0 {
		t.Errorf("tags schema %v", tags)
	}
	if body["example"] == nil {
		t.Error("no request example")
	}
	created := post["responses"].(map[string]any)["201"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)
	out := created["schema"].(map[string]any)
	oprops := out["properties"].(map[string]any)
	if oprops["created_at"].(map[string]any)["format"] != "date-time" || oprops["edited_at"].(map[string]any)["nullable"] != true ||
		oprops["id"].(map[string]any)["format"] != "uuid" {
		t.Errorf("answer schema %v", oprops)
	}
	req := toStrings(out["required"])
	if !slices.Contains(req, "edited_at") || slices.Contains(req, "author") {
		t.Errorf("required %v: omitempty decides", req)
	}
	if post["x-kvarter-domain"] != "nbh:{nbh}" || post["responses"].(map[string]any)["409"] == nil {
		t.Errorf("post %v", post)
	}

	list := paths["/api/v1/notes"]["get"]
	var names []string
	for _, p := range list["parameters"].([]any) {
		names = append(names, p.(map[string]any)["name"].(string))
	}
	if !slices.Equal(names, []string{"limit", "cursor"}) {
		t.Errorf("list parameters %v", names)
	}
	idParam := paths["/api/v1/notes/{id}"]["get"]["parameters"].([]any)[0].(map[string]any)
	if idParam["in"] != "path" || idParam["required"] != true || idParam["schema"].(map[string]any)["format"] != "uuid" {
		t.Errorf("path parameter %v", idParam)
	}
	feed := paths["/api/v1/notes/feed.ics"]["get"]["responses"].(map[string]any)["200"].(map[string]any)["content"].(map[string]any)
	if _, ok := feed["text/calendar"]; !ok || len(feed) != 1 {
		t.Errorf("feed content %v", feed)
	}
	if del := paths["/api/v1/notes/{id}"]["delete"]["responses"].(map[string]any)["204"].(map[string]any); del["content"] != nil {
		t.Errorf("204 with content %v", del)
	}
	// Request bodies state every limit CheckInput enforces.
	if err := openapi.CheckRequestLimits(map[string]any{"paths": sdk.OpenAPIPaths(routes)}); err != nil {
		t.Error(err)
	}
}

func TestOpenAPI_UniqueIDs(t *testing.T) {
	h := func(*http.Request) (sdk.NoBody, error) { return sdk.NoBody{}, nil }
	routes := []sdk.Route{
		sdk.Get("/api/v1/a/b", sdk.PermPublic, h),
		sdk.Get("/api/v1/a/{b}", sdk.PermPublic, h), // derives the same id
		sdk.Get("/api/v1/c", sdk.PermPublic, h).ID("getAB"),
	}
	paths := sdk.OpenAPIPaths(routes)
	seen := map[string]bool{}
	for _, item := range paths {
		id := item.(map[string]any)["get"].(map[string]any)["operationId"].(string)
		if seen[id] {
			t.Errorf("operationId %s twice", id)
		}
		seen[id] = true
	}
}

func TestManifest_OpenAPIDoc(t *testing.T) {
	m := sdk.Manifest{Routes: notesTable()}
	if !json.Valid(m.OpenAPIDoc()) || !strings.Contains(string(m.OpenAPIDoc()), "getNotesId") {
		t.Errorf("generated doc %s", m.OpenAPIDoc())
	}
	m.OpenAPI = json.RawMessage(`{"/api/v1/notes": {}}`)
	if string(m.OpenAPIDoc()) != `{"/api/v1/notes": {}}` {
		t.Error("a plugin's own document was replaced")
	}
}

func toStrings(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(string))
	}
	return out
}
