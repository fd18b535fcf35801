package e2e

import (
	"testing"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// pluginCity is a node running one plugin, built from its source and run as the core
// runs a third-party plugin (so its pages pass the host's HTML filter), with a city
// admin and one neighbourhood, Karşıyaka. A story's city embeds it and adds its people.
type pluginCity struct {
	n     *node.Node
	base  string
	admin *coretest.User
	nbh   string
}

// startPluginCity starts the city of the plugin name, whose main package is cmd (a
// path from this folder), and waits until the plugin is active.
func startPluginCity(t *testing.T, name, cmd string) *pluginCity {
	t.Helper()
	db := coretest.Databases(t)[0] // the pages are the same on both databases; the plugins' tests cover PostgreSQL
	cfg := db.Config
	bin, sum := sdktest.BuildPlugin(t, cmd)
	cfg.Plugins = []node.PluginConfig{{Name: name, Path: bin, SHA256: sum}}
	n := coretest.StartNode(t, cfg, coretest.Options())
	waitPlugin(t, n, name)
	c := &pluginCity{n: n, base: n.URL(), admin: coretest.Admin(t, n, "admin@city.example")}
	c.nbh = c.admin.Must(201, "POST", "/api/v1/neighbourhoods", map[string]any{"name": "Karşıyaka"}).JSON()["id"].(string)
	return c
}

// verified registers a person who asks to join the neighbourhood and whom the city
// admin verifies as its resident.
func (c *pluginCity) verified(t *testing.T, email, name string) *coretest.User {
	t.Helper()
	u := coretest.Register(t, c.n, email, name)
	u.Must(201, "POST", "/api/v1/neighbourhoods/"+c.nbh+"/memberships", map[string]string{"note": "Cemal Gürsel Cd. 12"})
	c.admin.Must(200, "POST", "/api/v1/neighbourhoods/"+c.nbh+"/memberships/"+u.ID+"/approve", nil)
	return u
}
