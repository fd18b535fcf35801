package consultations

import (
	"embed"
	"sync"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/i18n"
	"github.com/kvarter/kvarter/sdk/web"
)

// localeFiles are the plugin's catalogs, one file per area and language:
// consultations.<tag>.toml (the plugin's own words), notify.<tag>.toml
// (notifications), pages.<tag>.toml (pages), ideas.<tag>.toml (idea board).
//
//go:embed locales/*.toml
var localeFiles embed.FS

// catalog is every message of the plugin, with the web kit's for its pages.
var catalog = sync.OnceValue(func() *i18n.Bundle {
	b, err := web.NewBundle(localeFiles)
	if err != nil {
		panic(err) // embedded catalogs: a bug, caught by every test
	}
	return b
})

// notifyCatalog words the plugin's notifications.
var notifyCatalog = sync.OnceValue(func() *sdk.NotifyCatalog { return sdk.NewNotifyCatalog(catalog()) })
