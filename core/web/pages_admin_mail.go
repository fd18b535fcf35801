package web

import (
	"net/http"
	"strconv"

	"github.com/kvarter/kvarter/core"
	sdkweb "github.com/kvarter/kvarter/sdk/web"
)

// The mail queue's page for city administrators (core.mail.manage): how much mail
// waits, how much failed, the latest failures with their kind, time and error — never
// an address or a content — and a button that sends the failed mail again.

func init() {
	flashes = append(flashes, "core.flash.mail_retried")
}

// mailView is the queue's state for the page.
type mailView struct {
	Status   core.MailStatus
	Counts   sdkweb.Table
	Failures sdkweb.Table
}

// mailPurposes are the kinds of mail the page names; others are "other".
var mailPurposes = []string{core.PurposeVerifyEmail, core.PurposeResetPassword, core.PurposeAccountExists, core.PurposeNotification, core.PurposeDigest}

func (p *Pages) adminMail(w http.ResponseWriter, r *http.Request) error {
	v, err := signedIn(r)
	if err != nil {
		return err
	}
	if p.svc.Mail == nil {
		return core.Errorf(core.ENOTFOUND, "This node keeps no mail queue.")
	}
	st, err := p.svc.Mail.MailStatus(r.Context())
	if err != nil {
		return err
	}
	loc := p.tmpl.Localizer(v.lang)
	data := mailView{Status: st,
		Counts: sdkweb.Table{Caption: loc.T("core.admin.mail.counts"), RowHeaders: true, Rows: [][]sdkweb.Cell{
			{{Text: loc.T("core.admin.mail.queued")}, {Text: loc.Number(int64(st.Queued))}},
			{{Text: loc.T("core.admin.mail.retrying")}, {Text: loc.Number(int64(st.Retrying))}},
			{{Text: loc.T("core.admin.mail.failed")}, {Text: loc.Number(int64(st.Failed))}},
		}, Columns: []sdkweb.Column{{Label: loc.T("core.admin.mail.col_state")}, {Label: loc.T("core.admin.mail.counts"), Numeric: true}}},
		Failures: sdkweb.Table{Caption: loc.T("core.admin.mail.recent"), RowHeaders: true, Columns: []sdkweb.Column{
			{Label: loc.T("core.admin.mail.col_time")}, {Label: loc.T("core.admin.mail.col_kind")}, {Label: loc.T("core.admin.mail.col_state")},
			{Label: loc.T("core.admin.mail.col_attempts"), Numeric: true}, {Label: loc.T("core.admin.mail.col_error")}}},
	}
	for _, f := range st.Recent {
		kind := "other"
		for _, k := range mailPurposes {
			if k == f.Purpose {
				kind = k
			}
		}
		tone := "warning"
		if f.State == core.MailFailed {
			tone = "danger"
		}
		data.Failures.Rows = append(data.Failures.Rows, []sdkweb.Cell{
			{Text: loc.DateTime(f.At)}, {Text: loc.T("core.admin.mail.purpose." + kind)},
			{Tag: &sdkweb.Tag{Text: loc.T("core.admin.mail.state." + f.State), Tone: tone}},
			{Text: strconv.Itoa(f.Attempts)}, {Text: f.Error}})
	}
	return p.render(w, r, http.StatusOK, "admin-mail", data, p.adminMeta(r, "core.admin.mail.title", nil))
}

func (p *Pages) retryMail(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedIn(r); err != nil {
		return err
	}
	if p.svc.Mail == nil {
		return core.Errorf(core.ENOTFOUND, "This node keeps no mail queue.")
	}
	if _, err := p.svc.Mail.RetryFailed(r.Context()); err != nil {
		return err
	}
	p.flash(w, r, "core.flash.mail_retried")
	sdkweb.Redirect(w, r, "/admin/mail")
	return nil
}
