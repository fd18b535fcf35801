package mail

import (
	"bytes"
	_ "embed"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"

	"github.com/kvarter/kvarter/core"
)

// Message is what a mail says, already in the recipient's language: the caller
// translates, Compose lays it out.
type Message struct {
	// Lang is the BCP 47 tag of the text, for the HTML's lang attribute.
	Lang string
	// City is the city's name: it opens the mail and ends the subject.
	City string
	// Subject is the subject line without the city's name.
	Subject string
	// Heading is the mail's one heading; Paragraphs are plain text.
	Heading    string
	Paragraphs []string
	// Action is the link the mail is about ("Verify your address"), if any.
	Action *Link
	// Footer lines close the mail in small print (why the person gets it).
	Footer []string
	// Unsubscribe, when set, is the signed one-click link: it goes into the
	// List-Unsubscribe headers (RFC 8058) and, with its label, into the footer.
	Unsubscribe *Link
}

// Link is an absolute https (or, in development, http) URL and the words that say
// where it goes.
type Link struct {
	URL   string
	Label string
}

// The header fields of RFC 8058's one-click unsubscribe.
const (
	HeaderListUnsubscribe     = "List-Unsubscribe"
	HeaderListUnsubscribePost = "List-Unsubscribe-Post"
	ListUnsubscribeOneClick   = "List-Unsubscribe=One-Click"
)

// mailTemplate holds both bodies, "text" and "html", so that they cannot drift apart:
// text/template draws the first, html/template (escaping every value) the second.
//
//go:embed template.tmpl
var mailTemplate string

var (
	textBody = texttemplate.Must(texttemplate.New("mail").Parse(mailTemplate)).Lookup("text")
	htmlBody = htmltemplate.Must(htmltemplate.New("mail").Parse(mailTemplate)).Lookup("html")
)

// Compose makes the mail of m to the address to (and the name toName). A link that
// is not an absolute http(s) URL is refused: a mail is read far from the site, and
// "javascript:" has no place in one.
func Compose(to, toName string, m Message) (core.Mail, error) {
	for _, l := range []*Link{m.Action, m.Unsubscribe} {
		if l == nil {
			continue
		}
		if u, err := url.Parse(l.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return core.Mail{}, core.Errorf(core.EINVALID, "mail: link %q is not an absolute http(s) URL", l.URL)
		}
	}
	subject := m.Subject
	if m.City != "" {
		subject += " – " + m.City
	}
	var text, html bytes.Buffer
	if err := textBody.Execute(&text, m); err != nil {
		return core.Mail{}, err
	}
	if err := htmlBody.Execute(&html, m); err != nil {
		return core.Mail{}, err
	}
	out := core.Mail{To: to, ToName: toName, Subject: oneLine(subject), Text: text.String(), HTML: html.String()}
	if m.Unsubscribe != nil {
		out.Headers = map[string]string{
			HeaderListUnsubscribe:     "<" + m.Unsubscribe.URL + ">",
			HeaderListUnsubscribePost: ListUnsubscribeOneClick,
		}
	}
	return out, nil
}

// oneLine keeps a subject to one line whatever a translation or a name holds.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
