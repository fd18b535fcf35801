package sdktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/seal"
)

// PostgresURL returns the PostgreSQL server to test on. Without one the calling test is
// skipped — except in CI (CI set), where a missing URL is a broken setup and the test
// fails instead, so a PostgreSQL test can never pass there by not running.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvDatabaseURL)
	if u == "" {
		if os.Getenv("CI") != "" {
			tb.Fatalf("%s is not set, and CI must test on PostgreSQL (.ci/run sets it)", EnvDatabaseURL)
		}
		tb.Skipf("set %s to run this on PostgreSQL too", EnvDatabaseURL)
	}
	return u
}

// EachStore runs fn as subtest "sqlite" on a fresh SQLite file and as subtest
// "postgres" on a throwaway PostgreSQL schema (see PostgresURL), so a plugin's storage
// tests cover both dialects with one body.
func EachStore(t *testing.T, fn func(t *testing.T, cfg sdk.StoreConfig)) {
	t.Helper()
	t.Run(sdk.DialectSQLite, func(t *testing.T) { fn(t, SQLiteStore(t)) })
	t.Run(sdk.DialectPostgres, func(t *testing.T) { fn(t, PostgresStore(t)) })
}

// EachCore runs fn as subtest "sqlite" and as subtest "postgres", each with a real core
// and the plugin under test started by Start with o (o.Postgres set per subtest), so a
// plugin's end-to-end tests cover both databases with one body. The PostgreSQL subtest
// skips without a test server, or fails under CI (see PostgresURL), before anything is
// built.
func EachCore(t *testing.T, o Options, fn func(t *testing.T, c *Core, postgres bool)) {
	t.Helper()
	for _, dialect := range []string{sdk.DialectSQLite, sdk.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			o := o
			o.Postgres = dialect == sdk.DialectPostgres
			if o.Postgres {
				PostgresURL(t)
			}
			fn(t, Start(t, o), o.Postgres)
		})
	}
}

// SQLiteStore returns the config of a fresh SQLite store in a temp dir.
func SQLiteStore(tb testing.TB) sdk.StoreConfig {
	tb.Helper()
	return sdk.StoreConfig{Dialect: sdk.DialectSQLite, DSN: "file:" + filepath.Join(tb.TempDir(), "plugin.db")}
}

// PostgresStore creates an empty schema on the test server and returns a store config
// that uses it; the schema is dropped when the test ends.
func PostgresStore(tb testing.TB) sdk.StoreConfig {
	tb.Helper()
	base := PostgresURL(tb)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "sdks_" + hex.EncodeToString(b[:])
	admin, err := sqlx.Open("postgres", base)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return sdk.StoreConfig{Dialect: sdk.DialectPostgres, DSN: base, Schema: schema}
}

// Sealing is the sealing half of sdk.Host (SealingKey and Unseal) for the fake hosts
// of in-process unit tests: a real keyring with a random master key, made on first
// use, so that ballots are really sealed and opened. Embed it in a fake host; the
// zero value works.
type Sealing struct {
	once sync.Once
	ring *seal.Keyring
	err  error
}

func (s *Sealing) keyring() (*seal.Keyring, error) {
	s.once.Do(func() {
		master := make([]byte, seal.KeySize)
		_, _ = rand.Read(master)
		s.ring, s.err = seal.NewKeyring(master)
	})
	return s.ring, s.err
}

// SealingKey implements sdk.Host for the plugin "test".
func (s *Sealing) SealingKey(_ context.Context, voteID string) (seal.PublicKey, error) {
	k, err := s.keyring()
	if err != nil {
		return seal.PublicKey{}, err
	}
	return k.PublicKey("test", voteID)
}

// Unseal implements sdk.Host for the plugin "test".
func (s *Sealing) Unseal(_ context.Context, voteID string, sealed [][]byte) ([][]byte, error) {
	if len(sealed) > sdk.MaxUnsealBatch {
		return nil, fmt.Errorf("at most %d ballots per Unseal, got %d", sdk.MaxUnsealBatch, len(sealed))
	}
	k, err := s.keyring()
	if err != nil {
		return nil, err
	}
	return k.Open("test", voteID, sealed)
}
