package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestMain_DemoConsultations runs `kvarter demo` on a city that runs the consultations
// plugin, then `kvarter serve`, and reads back as an anonymous visitor what the issue
// asks the demo to show: an open survey with answers, a closed poll with its results
// and the city's response, and an idea board with comments.
func TestMain_DemoConsultations(t *testing.T) {
	kv := sdktest.KvarterBinary(t)
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		dir, cfgPath := writeCityConfig(t, db.Config.DatabaseURL != "", map[string]any{"plugins": []map[string]any{{"name": "consultations"}}})
		n := demoAndServe(t, kv, dir, cfgPath)
		visitor := coretest.NewClient(t, n)
		// page is a page's HTML, fetched as a browser does (the API client holds
		// requests to the OpenAPI document, which has no pages).
		page := func(path string) string {
			t.Helper()
			resp, err := http.Get(n.URL() + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d", path, resp.StatusCode)
			}
			return string(body)
		}

		var list struct {
			Items []struct{ ID, Title, Kind, Stage string }
		}
		visitor.Must(200, "GET", demoConsAPI, nil).Decode(t, &list)
		stages, ids := map[string]string{}, map[string]string{}
		for _, it := range list.Items {
			stages[it.Kind], ids[it.Kind] = it.Stage, it.ID
		}
		if len(list.Items) != 3 || stages["survey"] != "open" || stages["poll"] != "responded" || stages["ideas"] != "open" {
			t.Fatalf("the demo's consultations: %+v", list.Items)
		}
		var poll struct {
			Answers  int
			Response string
		}
		visitor.Must(200, "GET", demoConsAPI+"/"+ids["poll"]+"/results", nil).Decode(t, &poll)
		if poll.Answers == 0 || !strings.Contains(poll.Response, "Deniz Feneri") {
			t.Errorf("the poll's results: %+v", poll)
		}
		if !strings.Contains(page("/consultations/"+ids["poll"]+"/results"), "Deniz Feneri Meydanı") {
			t.Errorf("the poll's results page lacks its options")
		}
		if !strings.Contains(page("/consultations/"+ids["survey"]), "Kordon bisiklet yolu anketi") {
			t.Errorf("the survey's page lacks its title")
		}
		board := string(visitor.Must(200, "GET", demoConsAPI+"/"+ids["ideas"]+"/ideas.json", nil).Body)
		for _, want := range []string{"Sahile içme suyu çeşmeleri", "Şişe doldurulabilen musluklar da olsun."} {
			if !strings.Contains(board, want) {
				t.Errorf("the idea board lacks %q:\n%.2000s", want, board)
			}
		}
	})
}

// demoAndServe runs `kvarter demo` on the city of cfgPath (data in dir), then `kvarter
// serve`, and answers the serving node once its plugins are active.
func demoAndServe(t *testing.T, kv, dir, cfgPath string) *node.Node {
	t.Helper()
	m, _, errOut := newTestMain(t, dir)
	m.Options.Executable = kv
	if code := m.Run(t.Context(), []string{"demo", "--config", cfgPath}); code != 0 {
		t.Fatalf("demo = %d\n%s", code, errOut)
	}
	m, _, errOut = newTestMain(t, dir)
	m.Options.Executable = kv
	s := startServe(t, m, errOut, "--config", cfgPath)
	waitActive(t, s.node)
	return s.node
}
