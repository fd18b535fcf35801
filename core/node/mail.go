package node

import (
	"fmt"
	"os"
	"strings"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/mail"
	"github.com/kvarter/kvarter/core/sqlstore"
	"github.com/kvarter/kvarter/core/web"
)

// Configured reports whether a mail server is set; without one, mail stays queued.
func (m MailConfig) Configured() bool { return m.Host != "" }

// sender turns the mail section into the mail package's Config, reading the password
// from its environment variable or file. An unset section is not an error: it gives
// a zero Config and the node keeps mail queued. Problems are *ConfigError naming the
// key, and never quote the password.
func (m MailConfig) sender(cityName string, getenv func(string) string, readFile func(string) ([]byte, error)) (mail.Config, error) {
	if !m.Configured() {
		return mail.Config{}, nil
	}
	c := mail.Config{
		Host: m.Host, Port: m.Port, TLS: mail.TLSMode(m.TLS), Auth: mail.AuthMode(strings.ToLower(m.Auth)),
		Username: m.Username, From: m.From, FromName: m.FromName, Connections: m.Connections,
	}
	if c.TLS == "" {
		c.TLS = mail.TLSStartTLS
	}
	if c.Port == 0 {
		c.Port = map[mail.TLSMode]int{mail.TLSStartTLS: 587, mail.TLSImplicit: 465, mail.TLSNone: 25}[c.TLS]
	}
	if c.FromName == "" {
		c.FromName = cityName
	}
	switch c.TLS {
	case mail.TLSNone, mail.TLSStartTLS, mail.TLSImplicit:
	default:
		return c, &ConfigError{Key: "mail.tls", Problem: fmt.Sprintf("is %q", m.TLS), Expected: "none, starttls or tls"}
	}
	switch c.Auth {
	case mail.AuthNone, mail.AuthPlain, mail.AuthLogin:
	default:
		return c, &ConfigError{Key: "mail.auth", Problem: fmt.Sprintf("is %q", m.Auth), Expected: "plain, login, or empty for no sign-in"}
	}
	if c.Port < 0 || c.Port > 65535 {
		return c, &ConfigError{Key: "mail.port", Problem: fmt.Sprintf("is %d", m.Port), Expected: "a TCP port such as 587"}
	}
	if c.From == "" || !strings.Contains(c.From, "@") {
		return c, &ConfigError{Key: "mail.from", Problem: fmt.Sprintf("is %q", m.From), Expected: `the sender's address, such as "noreply@espoo.fi"`}
	}
	if c.Connections < 0 {
		return c, &ConfigError{Key: "mail.connections", Problem: fmt.Sprintf("is %d", m.Connections), Expected: "a whole number of connections (default 4)"}
	}
	if m.PasswordEnv != "" && m.PasswordFile != "" {
		return c, &ConfigError{Key: "mail.password_file", Problem: "is set together with mail.password_env", Expected: "one place for the password"}
	}
	switch {
	case m.PasswordEnv != "":
		c.Password = getenv(m.PasswordEnv)
		if c.Password == "" {
			return c, &ConfigError{Key: "mail.password_env", Problem: fmt.Sprintf("names %s, which is not set", m.PasswordEnv), Expected: "the name of an environment variable holding the mail server's password"}
		}
	case m.PasswordFile != "":
		b, err := readFile(m.PasswordFile)
		if err != nil {
			return c, &ConfigError{Key: "mail.password_file", Problem: fmt.Sprintf("%s cannot be read", m.PasswordFile), Expected: "a readable file holding the mail server's password"}
		}
		c.Password = strings.TrimRight(string(b), "\r\n")
	}
	if c.Auth != mail.AuthNone {
		if c.Username == "" {
			return c, &ConfigError{Key: "mail.username", Problem: "is empty", Expected: "the user name to sign in to the mail server with auth " + string(c.Auth)}
		}
		if c.Password == "" {
			return c, &ConfigError{Key: "mail.password_env", Problem: "and mail.password_file are both empty", Expected: "where to read the mail server's password (auth " + string(c.Auth) + ")"}
		}
	}
	if err := c.Validate(); err != nil {
		return c, &ConfigError{Key: "mail", Problem: "is wrong: " + err.Error(), Expected: `{"host": "smtp.espoo.fi", "from": "noreply@espoo.fi"}`}
	}
	return c, nil
}

// MailSender is the node's mailer, or nil when no mail server is configured. It reads
// the password from the environment (getenv) or its file.
func (c Config) MailSender(getenv func(string) string) (*mail.Sender, error) {
	if !c.Mail.Configured() {
		return nil, nil
	}
	mc, err := c.Mail.sender(c.City.Name, getenv, os.ReadFile)
	if err != nil {
		return nil, err
	}
	return mail.NewSender(mc)
}

// buildMail makes the node's mail queue with the configured server's sender (or the
// test's mailer). Without a server the queue keeps mail and its worker says so.
func (n *Node) buildMail(opt Options, authz core.Authorizer) error {
	n.MailQueue = &sqlstore.MailQueue{DB: n.DB, Authz: authz, Settings: opt.MailQueue, Logger: n.Logger}
	switch {
	case opt.Mailer != nil:
		n.MailQueue.Mailer = opt.Mailer
	default:
		sender, err := n.Config.MailSender(os.Getenv)
		if err != nil {
			return err
		}
		if sender != nil { // a nil *Sender in the interface would not be nil
			n.sender, n.MailQueue.Mailer = sender, sender
		}
	}
	if n.Metrics != nil {
		n.MailQueue.OnOutcome = n.Metrics.WatchMail(n.MailQueue.MailDepth)
	}
	account, err := web.NewAccountMail(n.Config.City.Name, n.Config.City.Languages[0], n.PublicURL)
	if err != nil {
		return err
	}
	n.Identity.Mail, n.Identity.AccountMail = n.MailQueue, account
	return nil
}

// PublicURL is the site's address for links in mail: public_url, or else the address
// the node listens on.
func (n *Node) PublicURL() string {
	if u := strings.TrimSuffix(n.Config.PublicURL, "/"); u != "" {
		return u
	}
	if n.addr == nil {
		return "http://" + n.Config.Listen
	}
	return n.URL()
}
