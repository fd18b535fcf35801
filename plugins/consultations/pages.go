package consultations

import "github.com/kvarter/kvarter/sdk"

// The plugin's pages (DESIGN.md §10) — the content of <main>, rendered in the viewer's
// language from templates/*.tmpl and locales/pages.<tag>.toml — are added here, beside
// the API in one route table; they call the same service as the JSON routes.

// pageRoutes are the plugin's pages and cards, appended to Routes.
func (p *Plugin) pageRoutes() []sdk.Route { return nil }

// pageUI is the manifest's UI section: nav entries and cards for the host's pages.
func pageUI() sdk.UI { return sdk.UI{} }
