// Package mail sends the core's mail over SMTP (DESIGN.md §11): Sender is the
// core.Mailer that speaks to the city's mail server with wneessen/go-mail, and Compose
// makes a core.Mail — subject, plain text and HTML from one template, and the one-click
// unsubscribe headers of RFC 8058 — from a Message in the recipient's language.
//
// The mail queue (core/sqlstore) decides what is sent when and retries; this package
// only sends one mail well and fast: connections stay open in a small pool and are
// dialled again when the server drops one.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/kvarter/kvarter/core"
)

// TLSMode is how the connection to the mail server is protected.
type TLSMode string

// The TLS modes: none (a relay on the same host), STARTTLS on a plain port (587), or
// TLS from the first byte (465).
const (
	TLSNone     TLSMode = "none"
	TLSStartTLS TLSMode = "starttls"
	TLSImplicit TLSMode = "tls"
)

// AuthMode is how the sender signs in to the mail server.
type AuthMode string

// The SMTP AUTH mechanisms Sender offers; AuthNone sends without signing in.
const (
	AuthNone  AuthMode = ""
	AuthPlain AuthMode = "plain"
	AuthLogin AuthMode = "login"
)

// DefaultConnections is how many connections a Sender keeps open at most: enough for
// a few hundred mails a second on a nearby server, few enough for any provider's
// limit on concurrent connections.
const DefaultConnections = 4

// Config is the mail server and the sender's address.
type Config struct {
	Host     string
	Port     int
	TLS      TLSMode
	Auth     AuthMode
	Username string
	Password string
	// From is the envelope and header sender; FromName is shown beside it (the
	// city's name, typically).
	From     string
	FromName string
	// Connections bounds the open connections (DefaultConnections when 0).
	Connections int
	// Timeout bounds dialling and each SMTP command (30 s when 0).
	Timeout time.Duration
	// TLSConfig overrides the TLS settings, e.g. a test's own root certificate;
	// nil verifies the server's certificate against the system roots for Host.
	TLSConfig *tls.Config
}

// Validate reports the first problem of c in words an operator can act on.
func (c Config) Validate() error {
	switch {
	case c.Host == "":
		return errors.New("host is required")
	case c.Port <= 0 || c.Port > 65535:
		return fmt.Errorf("port %d is not a TCP port", c.Port)
	case c.From == "" || !strings.Contains(c.From, "@"):
		return fmt.Errorf("from %q is not an email address", c.From)
	}
	switch c.TLS {
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		return fmt.Errorf("tls %q is not one of none, starttls, tls", c.TLS)
	}
	switch c.Auth {
	case AuthNone:
	case AuthPlain, AuthLogin:
		if c.Username == "" {
			return fmt.Errorf("auth %s needs a username", c.Auth)
		}
	default:
		return fmt.Errorf("auth %q is not one of plain, login or empty", c.Auth)
	}
	return nil
}

// Sender sends mail through one SMTP server. It is safe for concurrent use: each
// Send takes an idle connection (or dials one, up to Connections) and gives it back
// when the server took the message.
type Sender struct {
	cfg    Config
	client *gomail.Client
	slots  chan struct{}     // one per connection that may be open
	idle   chan *smtp.Client // open connections nobody is using
}

var _ core.Mailer = (*Sender)(nil)

// NewSender checks cfg and prepares a Sender; it dials only when it first sends.
func NewSender(cfg Config) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	if cfg.Connections <= 0 {
		cfg.Connections = DefaultConnections
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	// No NOOP before each mail: a round trip per mail, and a dropped connection shows
	// at MAIL FROM as well, before anything was sent (Send dials again then).
	opts := []gomail.Option{gomail.WithPort(cfg.Port), gomail.WithTimeout(cfg.Timeout), gomail.WithoutNoop()}
	tlsConfig := cfg.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	}
	switch cfg.TLS {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithTLSConfig(tlsConfig))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSConfig(tlsConfig))
	}
	switch cfg.Auth {
	case AuthPlain:
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain))
	case AuthLogin:
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthLogin))
	}
	if cfg.Auth != AuthNone {
		opts = append(opts, gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	client, err := gomail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	return &Sender{
		cfg:    cfg,
		client: client,
		slots:  make(chan struct{}, cfg.Connections),
		idle:   make(chan *smtp.Client, cfg.Connections),
	}, nil
}

// Send hands m to the server. A connection the server dropped while idle is dialled
// again once; any other failure closes the connection, so the next Send starts clean.
func (s *Sender) Send(ctx context.Context, m core.Mail) error {
	msg, err := s.message(m)
	if err != nil {
		return err
	}
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.slots }()
	conn, reused, err := s.conn(ctx)
	if err != nil {
		return fmt.Errorf("mail: connect to %s:%d: %w", s.cfg.Host, s.cfg.Port, err)
	}
	err = s.client.SendWithSMTPClient(conn, msg)
	var se *gomail.SendError
	if err != nil && reused && errors.As(err, &se) && (se.Reason == gomail.ErrConnCheck || se.Reason == gomail.ErrSMTPMailFrom) {
		// The server closed the idle connection (a timeout of its own), or refused
		// the sender on it: nothing was sent, so a fresh connection may try once.
		_ = conn.Close()
		if conn, err = s.dial(ctx); err != nil {
			return fmt.Errorf("mail: connect to %s:%d: %w", s.cfg.Host, s.cfg.Port, err)
		}
		err = s.client.SendWithSMTPClient(conn, msg)
	}
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("mail: send: %w", err)
	}
	s.idle <- conn // never blocks: at most one connection per slot exists
	return nil
}

// conn is an idle connection, or a new one.
func (s *Sender) conn(ctx context.Context) (*smtp.Client, bool, error) {
	select {
	case c := <-s.idle:
		return c, true, nil
	default:
	}
	c, err := s.dial(ctx)
	return c, false, err
}

func (s *Sender) dial(ctx context.Context) (*smtp.Client, error) {
	return s.client.DialToSMTPClientWithContext(ctx)
}

// Close says goodbye on every idle connection.
func (s *Sender) Close() error {
	var errs []error
	for {
		select {
		case c := <-s.idle:
			if err := s.client.CloseWithSMTPClient(c); err != nil {
				errs = append(errs, err)
			}
		default:
			return errors.Join(errs...)
		}
	}
}

// message turns m into go-mail's message: both bodies as multipart/alternative, the
// text first so that a client that shows one part shows the richer.
func (s *Sender) message(m core.Mail) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.FromFormat(s.cfg.FromName, s.cfg.From); err != nil {
		return nil, fmt.Errorf("mail: from: %w", err)
	}
	if err := msg.AddToFormat(m.ToName, m.To); err != nil {
		return nil, core.Errorf(core.EINVALID, "mail: recipient address: %v", err)
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	for k, v := range m.Headers {
		// Preformatted, since an encoder would mangle "<https://…>"; a line break
		// would start a header of the caller's choosing, so none is taken.
		if strings.ContainsAny(k+v, "\r\n") {
			return nil, core.Errorf(core.EINVALID, "mail: header %q holds a line break", k)
		}
		msg.SetGenHeaderPreformatted(gomail.Header(k), v)
	}
	msg.SetMessageID()
	msg.SetDate()
	return msg, nil
}
