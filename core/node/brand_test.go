package node_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
)

// A city's brand colour and logo from config reach every page: the brand stylesheet is
// linked after Kvarter's own, the logo sits in the header, and both are served.
func TestCityBrand(t *testing.T) {
	db := coretest.Databases(t)[0] // the pages' look does not depend on the database
	logo := filepath.Join(t.TempDir(), "arms.svg")
	if err := os.WriteFile(logo, []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1"/></svg>`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := db.Config
	cfg.City.BrandColour, cfg.City.Logo = "#e30a17", logo
	n := coretest.StartNode(t, cfg, coretest.Options())
	resp, body := coretest.RawRequest(t, "GET", n.URL()+"/", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET / = %d", resp.StatusCode)
	}
	css := regexp.MustCompile(`<link rel="stylesheet" href="(/static/[0-9a-f]+/brand\.css)">`).FindSubmatch(body)
	img := regexp.MustCompile(`<img src="(/static/[0-9a-f]+/logo\.svg)" alt=""`).FindSubmatch(body)
	if css == nil || img == nil {
		t.Fatalf("the page lacks the brand stylesheet or the logo:\n%s", body)
	}
	if i, j := strings.Index(string(body), "kvarter.css"), strings.Index(string(body), "brand.css"); i < 0 || j < i {
		t.Error("the brand stylesheet is not linked after kvarter.css, so it would not win")
	}
	for url, want := range map[string]string{string(css[1]): "--kv-brand: #e30a17;", string(img[1]): "<svg"} {
		resp, got := coretest.RawRequest(t, "GET", n.URL()+url, "", nil)
		if resp.StatusCode != 200 || !strings.Contains(string(got), want) || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s = %d %q", url, resp.StatusCode, got)
		}
	}
}

// A logo that cannot be used stops the start with the key and what it expects.
func TestCityBrand_Refused(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "logo.png")
	if err := os.WriteFile(page, []byte("<html><script>alert(1)</script>"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, set := range map[string]func(*node.Config){
		"missing file": func(c *node.Config) { c.City.Logo = filepath.Join(dir, "nope.png") },
		"not an image": func(c *node.Config) { c.City.Logo = page },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := coretest.Databases(t)[0].Config
			set(&cfg)
			_, err := node.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), coretest.Options())
			if err == nil || !strings.Contains(err.Error(), "city.logo") {
				t.Fatalf("New = %v, want an error naming city.logo", err)
			}
		})
	}
	cfg := node.DefaultConfig()
	cfg.City.BrandColour = "red"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "city.brand_colour") {
		t.Errorf("Validate = %v, want an error naming city.brand_colour", err)
	}
}
