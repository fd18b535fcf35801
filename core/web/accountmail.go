package web

import (
	"fmt"
	"net/url"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/mail"
	"github.com/kvarter/kvarter/sdk/i18n"
	sdkweb "github.com/kvarter/kvarter/sdk/web"
)

// AccountMail writes the core's account mail (core.AccountMailComposer) from the
// "core.mail.*" messages of the catalog, in the person's language, with links to the
// pages that take its tokens.
type AccountMail struct {
	city    string
	baseURL func() string
	bundle  *i18n.Bundle
	def     string
}

var _ core.AccountMailComposer = (*AccountMail)(nil)

// NewAccountMail writes mail for the city cityName whose default language is def;
// baseURL is the site's address ("https://kvarter.espoo.fi"), asked for each mail
// since a node learns its own address only when it listens.
func NewAccountMail(cityName, def string, baseURL func() string) (*AccountMail, error) {
	b, err := sdkweb.NewBundle(Catalog)
	if err != nil {
		return nil, fmt.Errorf("web: catalog: %w", err)
	}
	return &AccountMail{city: cityName, baseURL: baseURL, bundle: b, def: def}, nil
}

// ComposeAccountMail writes m.
func (a *AccountMail) ComposeAccountMail(m core.AccountMail) (core.Mail, error) {
	loc := a.bundle.Localizer(m.Lang, a.def)
	link := func(path, token string) string {
		u := a.baseURL() + path
		if token != "" {
			u += "?t=" + url.QueryEscape(token)
		}
		return u
	}
	data := map[string]any{"City": a.city, "Name": m.Name}
	var key, path string
	switch m.Purpose {
	case core.PurposeVerifyEmail:
		key, path = "verify", "/verify-email"
	case core.PurposeResetPassword:
		key, path = "reset", "/password/reset"
	case core.PurposeAccountExists:
		key, path = "exists", "/password/forgot"
	default:
		return core.Mail{}, fmt.Errorf("account mail: unknown purpose %q", m.Purpose)
	}
	msg := mail.Message{
		Lang:    loc.Lang(),
		City:    a.city,
		Subject: loc.T("core.mail." + key + ".subject"),
		Heading: loc.T("core.mail." + key + ".subject"),
		Paragraphs: []string{
			loc.T("core.mail.greeting", data),
			loc.T("core.mail."+key+".body", data),
			loc.T("core.mail." + key + ".next"),
		},
		Action: &mail.Link{URL: link(path, m.Token), Label: loc.T("core.mail." + key + ".action")},
		Footer: []string{loc.T("core.mail." + key + ".ignore"), loc.T("core.mail.footer", data)},
	}
	return mail.Compose(m.To, m.Name, msg)
}
