package sdktest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // to replay a plugin store's WAL
)

// StoreRow is one row of a plugin's table as an attacker reads it: every column as
// text. Group says what the attacker can tell about the transaction that wrote it: on
// PostgreSQL its xmin; for a row replayed from SQLite's WAL, the commit that wrote it.
type StoreRow struct {
	Table  string
	Values map[string]string
	Group  string
}

// StoreView is everything someone who can read a running plugin's store sees: the
// rows of every table in physical order (ctid on PostgreSQL, rowid or key on SQLite)
// with PostgreSQL's hidden xmin and ctid, a `pg_dump --data-only` of the plugin's
// schema, and on SQLite every transaction still in the -wal file, replayed frame by
// frame into a copy of the database.
type StoreView struct {
	// Tables are the rows now, table by table, each table in physical order.
	Tables []StoreRow
	// Dump are the rows of pg_dump --data-only, in the dump's order (PostgreSQL).
	Dump []StoreRow
	// WAL are, per transaction in the -wal file, the rows it added or changed
	// (SQLite).
	WAL [][]StoreRow
}

// ReadStore reads the plugin's store as an attacker with a copy of it would. Use it
// to show that a secret stays secret against reads below the API: hidden columns,
// dumps and the write-ahead log.
func (c *Core) ReadStore() StoreView {
	c.tb.Helper()
	dialect, dsn := c.PluginStore()
	var v StoreView
	if dialect == "sqlite" {
		// The -wal file first: it is what the server has not checkpointed yet.
		wal, err := os.ReadFile(dsn + "-wal")
		if err != nil && !os.IsNotExist(err) {
			c.tb.Fatal(err)
		}
		main, err := os.ReadFile(dsn)
		if err != nil {
			c.tb.Fatal(err)
		}
		v.WAL = replayWAL(c.tb, main, wal)
		v.Tables = readTables(c.tb, "sqlite", "file:"+dsn+"?mode=ro", "")
		return v
	}
	v.Tables = readTables(c.tb, "postgres", dsn, "xmin::text AS xmin, ctid::text AS ctid, ")
	v.Dump = c.pgDump()
	return v
}

// readTables reads every table of the store in physical order. On PostgreSQL the
// rows are grouped by xmin.
func readTables(tb testing.TB, driver, dsn, hidden string) []StoreRow {
	tb.Helper()
	db, err := sqlx.Open(driver, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	return dumpRows(tb, db, driver, hidden, "")
}

func dumpRows(tb testing.TB, db *sqlx.DB, driver, hidden, group string) []StoreRow {
	tb.Helper()
	var tables []string
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	if driver == "postgres" {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`
	}
	if err := db.Select(&tables, q); err != nil {
		tb.Fatal(err)
	}
	order := ""
	if driver == "postgres" {
		order = " ORDER BY ctid"
	}
	var out []StoreRow
	for _, t := range tables {
		rows, err := db.Queryx(`SELECT ` + hidden + `* FROM "` + t + `"` + order)
		if err != nil {
			tb.Fatal(err)
		}
		for rows.Next() {
			m := map[string]any{}
			if err := rows.MapScan(m); err != nil {
				tb.Fatal(err)
			}
			r := StoreRow{Table: t, Values: map[string]string{}, Group: group}
			for k, val := range m {
				r.Values[k] = text(val)
			}
			if x, ok := r.Values["xmin"]; ok {
				r.Group = "xmin " + x
			}
			out = append(out, r)
		}
		rows.Close()
	}
	return out
}

func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case []byte:
		return string(v)
	}
	return fmt.Sprint(v)
}

// pgDump runs pg_dump --data-only on the plugin's schema and reads its COPY blocks.
func (c *Core) pgDump() []StoreRow {
	c.tb.Helper()
	u, err := url.Parse(c.cfg["database_url"].(string))
	if err != nil {
		c.tb.Fatal(err)
	}
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	schema := c.cfg["plugin_store_prefix"].(string) + c.name
	out, err := exec.Command("pg_dump", "--data-only", "--schema="+schema, u.String()).Output()
	if err != nil {
		c.tb.Fatalf("pg_dump: %v", err)
	}
	var rows []StoreRow
	var table string
	var cols []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "COPY "):
			f := strings.SplitN(strings.TrimPrefix(line, "COPY "), " ", 2)
			table = f[0][strings.LastIndex(f[0], ".")+1:]
			list := f[1][strings.Index(f[1], "(")+1 : strings.Index(f[1], ")")]
			cols = strings.Split(strings.ReplaceAll(list, " ", ""), ",")
		case line == `\.`:
			table = ""
		case table != "":
			r := StoreRow{Table: table, Values: map[string]string{}}
			for i, val := range strings.Split(line, "\t") {
				if i < len(cols) && val != `\N` {
					r.Values[cols[i]] = val
				}
			}
			rows = append(rows, r)
		}
	}
	return rows
}

// replayWAL rebuilds the database after each transaction in the -wal file (a prefix
// of a WAL up to a commit frame is itself a valid WAL) and returns, per transaction,
// the rows that were not there before it.
func replayWAL(tb testing.TB, main, wal []byte) [][]StoreRow {
	tb.Helper()
	const walHeader, frameHeader = 32, 24
	if len(wal) < walHeader {
		return nil
	}
	pageSize := int(binary.BigEndian.Uint32(wal[8:12]))
	if pageSize == 1 {
		pageSize = 65536
	}
	salt := wal[16:24]
	var commits []int // end offsets of commit frames
	for off := walHeader; off+frameHeader+pageSize <= len(wal); off += frameHeader + pageSize {
		if !bytes.Equal(wal[off+8:off+16], salt) {
			break // frames of an earlier generation of the WAL
		}
		if binary.BigEndian.Uint32(wal[off+4:off+8]) != 0 {
			commits = append(commits, off+frameHeader+pageSize)
		}
	}
	var out [][]StoreRow
	before := rowSet(nil)
	dir := tb.TempDir()
	for i, end := range commits {
		db := filepath.Join(dir, fmt.Sprintf("replay-%d.db", i))
		if err := os.WriteFile(db, main, 0o600); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(db+"-wal", wal[:end], 0o600); err != nil {
			tb.Fatal(err)
		}
		conn, err := sqlx.Open("sqlite", "file:"+db)
		if err != nil {
			tb.Fatal(err)
		}
		rows := dumpRows(tb, conn, "sqlite", "", fmt.Sprintf("wal commit %d", i+1))
		conn.Close()
		now := rowSet(rows)
		var added []StoreRow
		for _, r := range rows {
			if before[rowKey(r)] == 0 {
				added = append(added, r)
			} else {
				before[rowKey(r)]--
			}
		}
		out = append(out, added)
		before = now
	}
	return out
}

func rowKey(r StoreRow) string {
	b, _ := json.Marshal(r.Values)
	return r.Table + " " + string(b)
}

func rowSet(rows []StoreRow) map[string]int {
	m := map[string]int{}
	for _, r := range rows {
		m[rowKey(r)]++
	}
	return m
}

// Link is a voter paired with a choice by an attack on a StoreView.
type Link struct {
	Voter, Choice string
	// Via names the attack: "row" (one row holds both), "xmin" (PostgreSQL rows
	// written by one transaction), "wal" (rows one replayed SQLite transaction wrote),
	// "order" or "dump order" (the i-th voter row with the i-th ballot row).
	Via string
}

// Links runs every attack an attacker with the view could run and returns the pairs
// of voter and choice they claim. voters are the IDs of the people who voted;
// choiceOf reads the choice a row reveals, if any. A test compares the claims with
// what each person really chose: a secret ballot holds when no claim is right but
// by chance.
func (v StoreView) Links(voters []string, choiceOf func(StoreRow) (string, bool)) []Link {
	isVoter := map[string]bool{}
	for _, id := range voters {
		isVoter[id] = true
	}
	voterIn := func(r StoreRow) []string {
		var out []string
		for k, val := range r.Values {
			if isVoter[val] && k != "xmin" && k != "ctid" {
				out = append(out, val)
			}
		}
		return out
	}
	var links []Link
	// A group (a transaction) gives a voter away when it wrote exactly one voter and
	// exactly one choice.
	group := func(via string, rows []StoreRow) {
		vs, cs := map[string]bool{}, map[string]bool{}
		for _, r := range rows {
			for _, id := range voterIn(r) {
				vs[id] = true
			}
			if c, ok := choiceOf(r); ok {
				cs[c] = true
			}
		}
		if len(vs) == 1 && len(cs) == 1 {
			for id := range vs {
				for c := range cs {
					links = append(links, Link{Voter: id, Choice: c, Via: via})
				}
			}
		}
	}
	all := append(append([]StoreRow{}, v.Tables...), v.Dump...)
	for _, txn := range v.WAL {
		all = append(all, txn...)
	}
	for _, r := range all {
		if c, ok := choiceOf(r); ok {
			for _, id := range voterIn(r) {
				links = append(links, Link{Voter: id, Choice: c, Via: "row"})
			}
		}
	}
	byXmin := map[string][]StoreRow{}
	for _, r := range v.Tables {
		if strings.HasPrefix(r.Group, "xmin ") {
			byXmin[r.Group] = append(byXmin[r.Group], r)
		}
	}
	keys := make([]string, 0, len(byXmin))
	for k := range byXmin {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		group("xmin", byXmin[k])
	}
	for _, txn := range v.WAL {
		group("wal", txn)
	}
	links = append(links, orderLinks("order", v.Tables, isVoter, choiceOf)...)
	links = append(links, orderLinks("dump order", v.Dump, isVoter, choiceOf)...)
	return links
}

// orderLinks pairs the voter rows and the ballot rows by position, when there are at
// least as many ballots as voters: what lining up a voters table and a ballots table
// in storage order does.
func orderLinks(via string, rows []StoreRow, isVoter map[string]bool, choiceOf func(StoreRow) (string, bool)) []Link {
	voters := map[string][]string{}
	choices := map[string][]string{}
	for _, r := range rows {
		if c, ok := choiceOf(r); ok {
			choices[r.Table] = append(choices[r.Table], c)
			continue
		}
		for k, val := range r.Values {
			if isVoter[val] && k == "user_id" {
				voters[r.Table] = append(voters[r.Table], val)
			}
		}
	}
	var links []Link
	for _, vt := range slices.Sorted(mapKeys(voters)) {
		for _, ct := range slices.Sorted(mapKeys(choices)) {
			vs, cs := voters[vt], choices[ct]
			if len(cs) < len(vs) {
				continue // ballots beyond the voters (paper ballots, say) come after them
			}
			for i := range vs {
				links = append(links, Link{Voter: vs[i], Choice: cs[i], Via: via + " " + vt + "/" + ct})
			}
		}
	}
	return links
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// CheckSecret fails the test when an attack on v pairs voters with their real
// choices (truth: voter ID → choice). "row", "xmin" and "wal" claims fail at once if
// any is right; a positional ("order") attack fails when it gets every voter right,
// which a shuffle makes as unlikely as the test's choices allow.
func CheckSecret(tb testing.TB, when string, v StoreView, truth map[string]string, choiceOf func(StoreRow) (string, bool)) {
	tb.Helper()
	voters := slices.Sorted(mapKeys(truth))
	right := map[string]int{}
	claimed := map[string]int{}
	for _, l := range v.Links(voters, choiceOf) {
		claimed[l.Via]++
		if truth[l.Voter] == l.Choice {
			right[l.Via]++
		}
	}
	tb.Logf("%s: %d rows, %d dumped, %d WAL transactions; claims per attack %v, right %v",
		when, len(v.Tables), len(v.Dump), len(v.WAL), claimed, right)
	for via, n := range right {
		positional := strings.Contains(via, "order")
		if !positional || n == len(truth) {
			tb.Errorf("%s: the %s attack paired %d of %d voters with their choice (%d claims)", when, via, n, len(truth), claimed[via])
		}
	}
}
