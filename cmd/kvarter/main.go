// Command kvarter runs the Kvarter platform: `kvarter serve` starts the core, and the
// other subcommands migrate the database, create accounts and report the version.
// This package only wires; everything it calls lives in core and the plugins.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/core/sqlstore"
	"github.com/kvarter/kvarter/plugins/budgeting/pbcli"
	"github.com/kvarter/kvarter/sdk"
)

// Version and Commit are set at build time with
// -ldflags "-X main.Version=... -X main.Commit=..." (the Makefile and deploy/Dockerfile
// do). Without them, `kvarter version` falls back to what the Go toolchain recorded.
var (
	Version = "0.1.0-dev"
	Commit  = ""
)

func main() {
	m := NewMain()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := m.Run(ctx, os.Args[1:])
	os.Exit(code)
}

// Main is the program: its streams and environment are fields so that tests run the
// real thing in-process.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Options are passed to the node (tests make passwords cheap).
	Options node.Options
	// Ready, when set, receives the node once serve is listening.
	Ready func(*node.Node)
}

// NewMain returns a Main on the process's streams, environment and executable (re-executed
// for built-in plugins). Tests build their Main themselves: a test binary re-executed as
// `plugin <name>` would run the tests again, so they set Options.Executable to a real
// kvarter binary or run no built-in plugin.
func NewMain() *Main {
	m := &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	if exe, err := os.Executable(); err == nil {
		m.Options.Executable = exe
	}
	return m
}

const usage = `kvarter — a platform for residents to shape their neighbourhood.

Usage:
  kvarter serve [--config FILE]           run the platform
  kvarter migrate [--config FILE]         apply pending database migrations
  kvarter admin create-user --email E --password-stdin [--name N] [--language L] [--role city_admin]
  kvarter demo [--config FILE]            fill an empty city with an Izmir-like demo; prints the passwords once
  kvarter plugins list [--config FILE]    the configured plugins and their last known state
  kvarter plugin NAME                     run a built-in plugin (the host starts these itself)
  kvarter backup [--config FILE] DIR      copy a SQLite deployment into DIR while it serves
  kvarter restore [--config FILE] DIR     restore a backup into an empty data directory
  kvarter pb tally FILE.pb [--rule R] ... tally a Pabulib participatory-budgeting file (kvarter pb help)
  kvarter pb compare FILE.pb ...          greedy and the Method of Equal Shares side by side (kvarter pb help)
  kvarter version

Environment: KVARTER_CONFIG, KVARTER_ADDR, KVARTER_DATA_DIR, KVARTER_DATABASE_URL, KVARTER_LOG_LEVEL,
KVARTER_KEY_FILE.
`

// Run executes one subcommand and returns the process exit code.
func (m *Main) Run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = m.serve(ctx, args[1:])
	case "migrate":
		err = m.migrate(ctx, args[1:])
	case "admin":
		if len(args) < 2 || args[1] != "create-user" {
			fmt.Fprint(m.Stderr, usage)
			return 2
		}
		err = m.createUser(ctx, args[2:])
	case "demo":
		err = m.demo(ctx, args[1:])
	case "plugin":
		if len(args) != 2 || builtins[args[1]] == nil {
			fmt.Fprintf(m.Stderr, "kvarter plugin: name one of the built-in plugins: %s\n", strings.Join(builtinNames(), ", "))
			return 2
		}
		sdk.Serve(builtins[args[1]]()) // never returns
	case "plugins":
		if len(args) < 2 || args[1] != "list" {
			fmt.Fprint(m.Stderr, usage)
			return 2
		}
		err = m.listPlugins(ctx, args[2:])
	case "pb":
		// The same tally package the budgeting plugin publishes results with.
		return pbcli.Run(args[1:], m.Stdout, m.Stderr)
	case "backup":
		err = m.backup(ctx, args[1:])
	case "restore":
		err = m.restore(args[1:])
	case "version", "--version":
		fmt.Fprint(m.Stdout, versionText(Version, Commit))
	case "help", "-h", "--help":
		fmt.Fprint(m.Stdout, usage)
	default:
		fmt.Fprintf(m.Stderr, "kvarter: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		var usageErr usageError
		if errors.As(err, &usageErr) {
			fmt.Fprintf(m.Stderr, "kvarter: %v\n", err)
			return 2
		}
		fmt.Fprintf(m.Stderr, "kvarter: %v\n", err)
		return 1
	}
	return 0
}

type usageError struct{ error }

// nodeOptions are m.Options plus what only the binary knows: its version and commit and
// the plugins built into it.
func (m *Main) nodeOptions() node.Options {
	opts := m.Options
	if opts.HostVersion == "" {
		opts.HostVersion = Version
	}
	if opts.Commit == "" {
		opts.Commit, _ = buildCommit(Commit)
	}
	if opts.Builtins == nil {
		opts.Builtins = builtinNames()
	}
	return opts
}

// listPlugins prints the configured plugins and the state last reported to the
// database by a node (the live state of one node is at GET /api/v1/admin/plugins).
func (m *Main) listPlugins(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("plugins list")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	cfg, err := m.loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	configured := cfg.Plugins
	if configured == nil {
		for _, name := range builtinNames() {
			configured = append(configured, node.PluginConfig{Name: name})
		}
	}
	reported := map[string]sqlstore.PluginStatusRow{}
	note := ""
	if db, err := node.OpenDB(ctx, cfg); err != nil {
		note = "state unknown: " + err.Error()
	} else {
		rows, err := (&sqlstore.PluginStore{DB: db}).ListPluginStatus(ctx)
		db.Close()
		if err != nil {
			note = "state unknown (has `kvarter migrate` run?): " + err.Error()
		}
		for _, r := range rows {
			reported[r.Name] = r
		}
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tVERSION\tSTATE\tRESTARTS\tREPORTED\tLAST ERROR")
	for _, p := range configured {
		kind := "builtin"
		if p.Path != "" {
			kind = "external " + p.Path
		}
		state, version, restarts, when, lastErr := "never started", "-", "-", "-", ""
		if p.Disabled {
			state = "disabled in config"
		}
		if r, ok := reported[p.Name]; ok {
			state, version, restarts, when, lastErr = r.State, r.Version, strconv.Itoa(r.Restarts), r.UpdatedAt.Format(time.RFC3339), r.LastError
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, kind, version, state, restarts, when, lastErr)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintln(m.Stdout, note)
	}
	return nil
}

func (m *Main) flags(name string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("kvarter "+name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	cfg := fs.String("config", "", "path of the city config file (default $KVARTER_CONFIG, or none)")
	return fs, cfg
}

func (m *Main) loadConfig(path string) (node.Config, error) {
	return node.LoadConfig(path, m.Getenv)
}

func (m *Main) serve(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("serve")
	addrFile := fs.String("addr-file", "", "once serving, write the listen address (host:port) to this file")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	cfg, err := m.loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	logger := node.NewLogger(cfg, m.Stderr)
	if pct, ok := serveGCPercent(m.Getenv); ok {
		debug.SetGCPercent(pct)
	}
	n, err := node.New(ctx, cfg, logger, m.nodeOptions())
	if err != nil {
		return err
	}
	if err := n.Start(ctx); err != nil {
		n.Close(context.Background())
		return err
	}
	if *addrFile != "" {
		// Write then rename, so a reader never sees a partial address.
		tmp := *addrFile + ".tmp"
		err := os.WriteFile(tmp, []byte(n.Addr().String()), 0o600)
		if err == nil {
			err = os.Rename(tmp, *addrFile)
		}
		if err != nil {
			n.Close(context.Background())
			return fmt.Errorf("write --addr-file: %w", err)
		}
	}
	if m.Ready != nil {
		m.Ready(n)
	}
	<-ctx.Done()
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return n.Close(shutdownCtx)
}

// serveGCPercent is the garbage collector setting of a serving core unless the
// operator chose one with GOGC. A core's live heap is small (about 3 MB) while each
// request allocates a few kilobytes, so at Go's default of 100 the collector ran
// about fifty times a second under bench/plugins/run.sh; at 200, about twenty-three
// times, and the core spent about a tenth less CPU per request. The price is a heap
// that may grow to three times what is live instead of two: a few megabytes here.
func serveGCPercent(getenv func(string) string) (int, bool) {
	if getenv("GOGC") != "" {
		return 0, false
	}
	return 200, true
}

func (m *Main) migrate(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("migrate")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	cfg, err := m.loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	db, err := node.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(m.Stdout, "The database schema is up to date.")
		return nil
	}
	fmt.Fprintf(m.Stdout, "Applied %d migration(s): %s\n", len(applied), strings.Join(applied, ", "))
	return nil
}

func (m *Main) createUser(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("admin create-user")
	email := fs.String("email", "", "email address of the new account (required)")
	name := fs.String("name", "", "display name (default: the part of the email before @)")
	language := fs.String("language", "", "preferred language (default: the city's first language)")
	role := fs.String("role", "", "a city-wide role to grant, e.g. city_admin")
	stdin := fs.Bool("password-stdin", false, "read the password from standard input (required)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *email == "" || !*stdin {
		return usageError{errors.New("admin create-user needs --email and --password-stdin")}
	}
	pw, err := io.ReadAll(io.LimitReader(m.Stdin, 4096))
	if err != nil {
		return fmt.Errorf("read password: %w", err)
	}
	password := strings.TrimRight(string(pw), "\r\n")
	cfg, err := m.loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if *name == "" {
		*name, _, _ = strings.Cut(*email, "@")
	}
	if *language == "" {
		*language = cfg.City.Languages[0]
	}
	logger := node.NewLogger(cfg, io.Discard)
	n, err := node.New(ctx, cfg, logger, m.nodeOptions())
	if err != nil {
		return err
	}
	defer n.Close(context.Background())
	u, err := n.Identity.CreateUser(ctx, core.Registration{Email: *email, Password: password, DisplayName: *name, Language: *language}, *role)
	if err != nil {
		var e *core.Error
		if errors.As(err, &e) {
			msg := e.Message
			for f, p := range e.Fields {
				msg += fmt.Sprintf("\n  %s: %s", f, p)
			}
			return errors.New(msg)
		}
		return err
	}
	fmt.Fprintf(m.Stdout, "Created user %s (%s)", u.Email, u.ID)
	if *role != "" {
		fmt.Fprintf(m.Stdout, " with role %s", *role)
	}
	fmt.Fprintln(m.Stdout)
	return nil
}
