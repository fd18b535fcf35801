package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/kvarter/kvarter/sdk/sdktest"
)

// guideBlock returns the shell block of docs/operators.md that follows the marker
// `<!-- tested: NAME ...-->`, so that the test runs what the guide tells operators.
func guideBlock(t *testing.T, name string) string {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot(t), "docs", "operators.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	state := 0 // 0 looking for the marker, 1 for the fence, 2 inside
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case state == 0 && strings.HasPrefix(line, "<!-- tested: "+name+" "):
			state = 1
		case state == 1 && strings.HasPrefix(line, "```"):
			state = 2
		case state == 2 && strings.HasPrefix(line, "```"):
			return b.String()
		case state == 2:
			b.WriteString(line + "\n")
		}
	}
	t.Fatalf("docs/operators.md has no block marked %q", name)
	return ""
}

// runGuide runs a block of the guide with sh -eu and the given environment.
func runGuide(t *testing.T, name string, env map[string]string) {
	t.Helper()
	cmd := exec.Command("sh", "-eu", "-c", guideBlock(t, name))
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the guide's %s commands failed: %v\n%s", name, err, out)
	}
}

// withDatabase is baseURL pointing at database db (and, when user is set, logging in
// as user without a password: the test server trusts loopback).
func withDatabase(t *testing.T, baseURL, db, user string) string {
	t.Helper()
	u, err := url.Parse(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + db
	if user != "" {
		u.User = url.User(user)
	}
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return u.String()
}

// TestGuide_PostgresBackupRestore runs the operator guide's pg_dump and pg_restore
// commands on a populated PostgreSQL city: the dump is taken by a role that holds only
// pg_read_all_data, as the guide asks; then the city's database and its plugin roles
// are dropped (as on a lost server) and the guide's restore brings them back into a
// fresh database, from which a node serves the same neighbourhoods and parks.
func TestGuide_PostgresBackupRestore(t *testing.T) {
	base := sdktest.PostgresURL(t)
	kv := sdktest.KvarterBinary(t)
	var rb [5]byte
	rand.Read(rb[:])
	tag := "kvbackup_" + hex.EncodeToString(rb[:])
	srcDB, dstDB, prefix, reader := tag+"_src", tag+"_dst", tag+"_", tag+"_reader"

	admin, err := sqlx.Open("postgres", withDatabase(t, base, "postgres", ""))
	if err != nil {
		t.Fatal(err)
	}
	var coreRole string
	if err := admin.Get(&coreRole, `SELECT current_user`); err != nil {
		t.Fatal(err)
	}
	dropAll := func() {
		for _, db := range []string{srcDB, dstDB} {
			admin.Exec(`DROP DATABASE IF EXISTS "` + db + `" WITH (FORCE)`)
		}
		var roles []string
		admin.Select(&roles, `SELECT rolname FROM pg_roles WHERE rolname LIKE $1`, tag+"%")
		for _, r := range roles {
			admin.Exec(`DROP ROLE IF EXISTS "` + r + `"`)
		}
	}
	t.Cleanup(func() { dropAll(); admin.Close() })
	for _, q := range []string{
		`CREATE DATABASE "` + srcDB + `"`,
		`CREATE ROLE "` + reader + `" LOGIN`,
		`GRANT pg_read_all_data TO "` + reader + `"`,
	} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatal(err)
		}
	}

	root := t.TempDir()
	writeConfig := func(db string) string {
		t.Helper()
		b, _ := json.Marshal(map[string]any{
			"database_url": withDatabase(t, base, db, ""), "plugin_store_prefix": prefix,
			"database_max_connections": 8, "plugins": []map[string]any{{"name": "parks"}},
		})
		path := filepath.Join(root, db+".json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	srcCfg := writeConfig(srcDB)
	m, _, errOut := newTestMain(t, t.TempDir())
	m.Options.Executable = kv
	m.Stdin = strings.NewReader("postgres admin passphrase\n")
	if code := m.Run(context.Background(), []string{"admin", "create-user", "--config", srcCfg, "--email", "admin@city.example", "--password-stdin", "--role", "city_admin"}); code != 0 {
		t.Fatalf("create-user = %d %s", code, errOut)
	}
	m, _, errOut = newTestMain(t, t.TempDir())
	m.Options.Executable = kv
	src := startServe(t, m, errOut, "--config", srcCfg)
	waitActive(t, src.node)
	client := login(t, src.node, "admin@city.example", "postgres admin passphrase")
	var w writeCity
	for i := range 4 {
		if !w.create(t, client, i) {
			t.FailNow()
		}
	}
	source := snapshot(t, client)
	src.stop()
	if len(source.Parks) == 0 {
		t.Fatal("no parks written")
	}

	backupDir, keyFile := filepath.Join(root, "backup"), filepath.Join(root, "kvarter.key")
	if err := os.WriteFile(keyFile, []byte("the city's master key"), 0o600); err != nil {
		t.Fatal(err)
	}
	runGuide(t, "pg-backup", map[string]string{
		"BACKUP_DIR": backupDir, "BACKUP_DATABASE_URL": withDatabase(t, base, srcDB, reader), "KVARTER_KEY_FILE": keyFile,
	})

	// The server is lost: the database, the plugin roles and the key file with it.
	dropAll()
	os.Remove(keyFile)
	var left int
	admin.Get(&left, `SELECT COUNT(*) FROM pg_roles WHERE rolname LIKE $1`, prefix+"%")
	if left != 0 {
		t.Fatalf("%d plugin roles survived the drop", left)
	}

	runGuide(t, "pg-restore", map[string]string{
		"BACKUP_DIR": backupDir, "ADMIN_URL": withDatabase(t, base, "postgres", ""), "KVARTER_ROLE": coreRole,
		"RESTORE_DB": dstDB, "RESTORE_ADMIN_URL": withDatabase(t, base, dstDB, ""), "KVARTER_KEY_FILE": keyFile,
	})
	if b, _ := os.ReadFile(keyFile); string(b) != "the city's master key" {
		t.Errorf("restored key file = %q", b)
	}

	m, _, errOut = newTestMain(t, t.TempDir())
	m.Options.Executable = kv
	dst := startServe(t, m, errOut, "--config", writeConfig(dstDB))
	waitActive(t, dst.node)
	restored := snapshot(t, login(t, dst.node, "admin@city.example", "postgres admin passphrase"))
	if len(restored.Neighbourhoods) != len(source.Neighbourhoods) || len(restored.Parks) != len(source.Parks) {
		t.Fatalf("restored %d neighbourhoods and %d parks; the source had %d and %d",
			len(restored.Neighbourhoods), len(restored.Parks), len(source.Neighbourhoods), len(source.Parks))
	}
	for id, item := range source.Neighbourhoods {
		if string(restored.Neighbourhoods[id]) != string(item) {
			t.Errorf("neighbourhood %s: restored %s, source %s", id, restored.Neighbourhoods[id], item)
		}
	}
	for id, item := range source.Parks {
		if string(restored.Parks[id]) != string(item) {
			t.Errorf("park %s: restored %s, source %s", id, restored.Parks[id], item)
		}
	}
}
