package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestBoard_InProcess runs the plugin in the harness on both databases: permissions
// from the manifest's grants, answers checked against the generated document, and the
// list walked while notices are posted.
func TestBoard_InProcess(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		h := sdktest.NewHarness(t, &plugin{}, sdktest.HarnessOptions{Store: cfg})
		h.Host.AddMember("ann", "n1")
		ann := h.As("ann")
		h.Must(401, h.As(""), "POST", "/api/v1/board/nbh/n1/notices", map[string]any{"text": "hi"})
		h.Must(403, h.As("bob"), "POST", "/api/v1/board/nbh/n1/notices", map[string]any{"text": "hi"})
		h.Must(403, ann, "POST", "/api/v1/board/nbh/n2/notices", map[string]any{"text": "hi"})
		h.Must(422, ann, "POST", "/api/v1/board/nbh/n1/notices", map[string]any{"text": "  "})
		h.Must(422, ann, "POST", "/api/v1/board/nbh/n1/notices", map[string]any{"text": strings.Repeat("x", 501)})
		var existing []string
		for i := range 5 {
			var n Notice
			h.Must(201, ann, "POST", "/api/v1/board/nbh/n1/notices", map[string]any{"text": fmt.Sprint("notice ", i)}).Decode(t, &n)
			existing = append(existing, fmt.Sprint(n.ID))
		}
		sdktest.WalkPagesFrom(t, existing, func(cursor string) ([]string, string) {
			var p sdk.Page[Notice]
			h.Must(200, h.As(""), "GET", "/api/v1/board/nbh/n1/notices?limit=2&cursor="+cursor, nil).Decode(t, &p)
			var ids []string
			for _, n := range p.Items {
				ids = append(ids, fmt.Sprint(n.ID))
			}
			return ids, p.NextCursor
		}, func(i int) {
			if r := h.Do(ann, "POST", "/api/v1/board/nbh/n1/notices", map[string]any{"text": fmt.Sprint("more ", i)}); r.Status != 201 {
				t.Errorf("post: %d %s", r.Status, r.Body)
			}
		})
		sdktest.CheckRequestLimits(t, h.Plugin)
	})
}

// TestBoard_RealCore builds this package and runs it inside a real `kvarter serve`:
// the plugin of docs/plugins.md works as printed.
func TestBoard_RealCore(t *testing.T) {
	sdktest.EachCore(t, sdktest.Options{Package: ".", Name: "board"}, func(t *testing.T, c *sdktest.Core, _ bool) {
		nbh := c.Neighbourhood("Kallio")
		ann, bob := c.NewUser("ann@example.org"), c.NewUser("bob@example.org")
		c.VerifiedMember(ann, nbh)
		path := "/api/v1/board/nbh/" + nbh + "/notices"
		bob.Must(403, "POST", path, map[string]any{"text": "hi"})
		ann.Must(201, "POST", path, map[string]any{"text": "Bike repair café on Saturday"})
		var p sdk.Page[Notice]
		c.Anonymous().Must(200, "GET", path, nil).Decode(t, &p)
		if len(p.Items) != 1 || p.Items[0].AuthorID != ann.UserID || p.NextCursor != "" {
			t.Fatalf("notices %+v", p)
		}
		doc := c.Anonymous().Must(200, "GET", "/api/v1/openapi.json", nil).JSON()
		op, _ := doc["paths"].(map[string]any)["/api/v1/board/nbh/{nbh}/notices"].(map[string]any)["post"].(map[string]any)
		if op["operationId"] == nil || op["security"] == nil {
			t.Errorf("the host's document lacks the plugin's operation: %v", op)
		}
	})
}

// TestBoard_IsTheDocumentedPlugin: docs/plugins.md prints main.go whole, and the glue
// stays under 30 lines.
func TestBoard_IsTheDocumentedPlugin(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../../docs/plugins.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, []byte("```go\n"+string(src)+"```\n")) {
		t.Error("docs/plugins.md does not print sdk/examples/board/main.go as it is; paste the file into its first listing")
	}
	glue := 0
	code := regexp.MustCompile(`^\s*($|//)`)
	inImports := false
	for _, line := range strings.Split(string(src), "\n") {
		switch {
		case strings.HasPrefix(line, "import ("):
			inImports = true
		case inImports:
			inImports = line != ")"
		case !code.MatchString(line) && !strings.HasPrefix(line, "package "):
			glue++
		}
	}
	if glue >= 30 {
		t.Errorf("main.go has %d lines of glue; the docs promise under 30", glue)
	}
}
