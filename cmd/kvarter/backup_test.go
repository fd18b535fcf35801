package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// serving is a `kvarter serve` started in-process by a test.
type serving struct {
	node   *node.Node
	cancel context.CancelFunc
	done   chan int
	stderr *bytes.Buffer
}

// startServe runs m serve with args until the test stops it (or ends).
func startServe(t testing.TB, m *Main, stderr *bytes.Buffer, args ...string) *serving {
	t.Helper()
	ready := make(chan *node.Node, 1)
	m.Ready = func(n *node.Node) { ready <- n }
	ctx, cancel := context.WithCancel(context.Background())
	s := &serving{cancel: cancel, done: make(chan int, 1), stderr: stderr}
	go func() { s.done <- m.Run(ctx, append([]string{"serve"}, args...)) }()
	select {
	case s.node = <-ready:
	case code := <-s.done:
		t.Fatalf("serve exited %d: %s", code, stderr)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("serve did not start: %s", stderr)
	}
	t.Cleanup(s.stop)
	return s
}

func (s *serving) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	<-s.done
}

// waitActive waits until every configured plugin of the node is active.
func waitActive(t testing.TB, n *node.Node) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		all := true
		for _, st := range n.Plugins.Statuses() {
			if st.State != "active" {
				all = false
			}
		}
		if all {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("plugins not active: %+v", n.Plugins.Statuses())
}

// login signs in to n with a bearer token.
func login(t testing.TB, n *node.Node, email, password string) *coretest.Client {
	t.Helper()
	c := coretest.NewClient(t, n)
	var out struct{ Token string }
	c.Must(200, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password}).Decode(t, &out)
	c.Token = out.Token
	return c
}

// cityData is what the round trips compare: every neighbourhood (core store) and every
// park (parks plugin store), as the API renders them, by id.
type cityData struct {
	Neighbourhoods map[string]json.RawMessage
	Parks          map[string]json.RawMessage
}

func snapshot(t *testing.T, c *coretest.Client) cityData {
	t.Helper()
	d := cityData{Neighbourhoods: map[string]json.RawMessage{}, Parks: map[string]json.RawMessage{}}
	// Every page of both lists: a snapshot that stopped at the first page would miss
	// items the restored city has, and the comparison would blame the restore.
	for path, into := range map[string]map[string]json.RawMessage{"/api/v1/neighbourhoods": d.Neighbourhoods, "/api/v1/parks": d.Parks} {
		cursor := ""
		for {
			var page struct {
				Items      []json.RawMessage `json:"items"`
				NextCursor string            `json:"next_cursor"`
			}
			c.Must(200, "GET", path+"?limit=200&cursor="+cursor, nil).Decode(t, &page)
			for _, it := range page.Items {
				into[idOf(t, it)] = it
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
	}
	return d
}

func idOf(t *testing.T, item json.RawMessage) string {
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(item, &v); err != nil || v.ID == "" {
		t.Fatalf("item without id: %s", item)
	}
	return v.ID
}

// writeCity keeps creating a neighbourhood and a park in it until stop is closed, and
// reports the ids whose creation was acknowledged.
type writeCity struct {
	mu      sync.Mutex
	nbhs    []string
	parks   []string
	written atomic.Int64
}

func (w *writeCity) run(t *testing.T, c *coretest.Client, stop <-chan struct{}) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		if !w.create(t, c, i) {
			return
		}
	}
}

// create makes the i-th neighbourhood and a park in it, reporting success. It may run
// outside the test's goroutine, so it reports with Errorf.
func (w *writeCity) create(t *testing.T, c *coretest.Client, i int) bool {
	var n, p struct{ ID string }
	slug := fmt.Sprintf("district-%d-%d", i, time.Now().UnixNano())
	r := c.Do("POST", "/api/v1/neighbourhoods", map[string]string{"name": "District " + slug, "slug": slug})
	if r.Status != 201 {
		t.Errorf("create neighbourhood = %d %s", r.Status, r.Body)
		return false
	}
	r.Decode(t, &n)
	w.mu.Lock()
	w.nbhs = append(w.nbhs, n.ID)
	w.mu.Unlock()
	r = c.Do("POST", "/api/v1/parks", map[string]string{"name": "Park of " + slug, "neighbourhood_id": n.ID})
	if r.Status != 201 {
		t.Errorf("create park = %d %s", r.Status, r.Body)
		return false
	}
	r.Decode(t, &p)
	w.mu.Lock()
	w.parks = append(w.parks, p.ID)
	w.mu.Unlock()
	w.written.Add(1)
	return true
}

func (w *writeCity) acknowledged() (nbhs, parks []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.nbhs), slices.Clone(w.parks)
}

// TestMain_BackupRestoreWhileServing backs up a SQLite city while a client keeps
// writing to the core and to a plugin, restores the backup into an empty data
// directory, serves from it, and compares: everything acknowledged before the backup
// began is there, nothing is there that the source does not hold with the same content,
// and every park's neighbourhood exists (the stores agree with each other). The key
// file comes back byte for byte.
func TestMain_BackupRestoreWhileServing(t *testing.T) {
	kv := sdktest.KvarterBinary(t)
	root := t.TempDir()
	srcDir, backupDir, dstDir := filepath.Join(root, "data"), filepath.Join(root, "backup"), filepath.Join(root, "restored")
	cfgPath := filepath.Join(root, "city.json")
	if err := os.WriteFile(cfgPath, []byte(`{"plugins": [{"name": "parks"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// A key file as serve writes it (docs/security.md): a base64 key on a line.
	raw := make([]byte, 32)
	rand.Read(raw)
	key := []byte(base64.StdEncoding.EncodeToString(raw) + "\n")
	if err := os.MkdirAll(srcDir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(srcDir, "kvarter.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	newMain := func(dataDir string) (*Main, *bytes.Buffer, *bytes.Buffer) {
		m, out, errOut := newTestMain(t, dataDir)
		m.Options.Executable = kv
		return m, out, errOut
	}

	m, _, errOut := newMain(srcDir)
	m.Stdin = strings.NewReader("backup admin passphrase\n")
	if code := m.Run(context.Background(), []string{"admin", "create-user", "--config", cfgPath, "--email", "admin@city.example", "--password-stdin", "--role", "city_admin"}); code != 0 {
		t.Fatalf("create-user = %d %s", code, errOut)
	}
	m, _, errOut = newMain(srcDir)
	src := startServe(t, m, errOut, "--config", cfgPath)
	waitActive(t, src.node)
	admin := login(t, src.node, "admin@city.example", "backup admin passphrase")

	var w writeCity
	stop := make(chan struct{})
	var writers sync.WaitGroup
	writers.Add(1)
	go func() { defer writers.Done(); w.run(t, admin, stop) }()
	for w.written.Load() < 5 {
		time.Sleep(10 * time.Millisecond)
	}
	beforeNbhs, beforeParks := w.acknowledged()

	m, out, errOut := newMain(srcDir)
	if code := m.Run(context.Background(), []string{"backup", "--config", cfgPath, backupDir}); code != 0 {
		t.Fatalf("backup = %d %s", code, errOut)
	}
	if !strings.Contains(out.String(), "1 plugin store(s) and the key file") {
		t.Errorf("backup said %q", out)
	}
	// Keep writing a little after the backup, so the source holds more than the copy.
	duringBackup := w.written.Load()
	for w.written.Load() < duringBackup+3 {
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	writers.Wait()
	source := snapshot(t, admin)
	src.stop()
	if t.Failed() {
		return
	}

	var man struct {
		KvarterVersion string `json:"kvarter_version"`
		Core           struct {
			SHA256     string
			Migrations []string
		}
		Plugins []struct {
			Name       string
			Migrations []string
		}
		KeyFile *struct{ SHA256 string } `json:"key_file"`
	}
	b, err := os.ReadFile(filepath.Join(backupDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	known, err := knownSchemas()
	if err != nil {
		t.Fatal(err)
	}
	if man.KvarterVersion != Version || len(man.Core.SHA256) != 64 || !slices.Equal(man.Core.Migrations, known.Core) ||
		len(man.Plugins) != 1 || man.Plugins[0].Name != "parks" || !slices.Equal(man.Plugins[0].Migrations, known.Plugins["parks"]) || man.KeyFile == nil {
		t.Fatalf("manifest = %s", b)
	}

	// A data directory that holds anything is refused, and left as it was.
	busy := filepath.Join(root, "busy")
	os.MkdirAll(busy, 0o750)
	os.WriteFile(filepath.Join(busy, "notes.txt"), []byte("keep"), 0o600)
	m, _, errOut = newMain(busy)
	if code := m.Run(context.Background(), []string{"restore", "--config", cfgPath, backupDir}); code != 1 || !strings.Contains(errOut.String(), "not empty") {
		t.Errorf("restore into a non-empty data dir = %d %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(busy, "kvarter.db")); err == nil {
		t.Error("restore wrote into a non-empty data dir")
	}

	m, out, errOut = newMain(dstDir)
	if code := m.Run(context.Background(), []string{"restore", "--config", cfgPath, backupDir}); code != 0 {
		t.Fatalf("restore = %d %s", code, errOut)
	}
	if got, _ := os.ReadFile(filepath.Join(dstDir, "kvarter.key")); !bytes.Equal(got, key) {
		t.Error("the restored key file differs from the original")
	}
	m, _, errOut = newMain(dstDir)
	dst := startServe(t, m, errOut, "--config", cfgPath)
	waitActive(t, dst.node)
	restored := snapshot(t, login(t, dst.node, "admin@city.example", "backup admin passphrase"))

	for _, id := range beforeNbhs {
		if _, ok := restored.Neighbourhoods[id]; !ok {
			t.Errorf("neighbourhood %s, created before the backup, is missing", id)
		}
	}
	for _, id := range beforeParks {
		if _, ok := restored.Parks[id]; !ok {
			t.Errorf("park %s, created before the backup, is missing", id)
		}
	}
	for id, item := range restored.Neighbourhoods {
		if !bytes.Equal(item, source.Neighbourhoods[id]) {
			t.Errorf("neighbourhood %s restored as %s, the source has %s", id, item, source.Neighbourhoods[id])
		}
	}
	for id, item := range restored.Parks {
		if !bytes.Equal(item, source.Parks[id]) {
			t.Errorf("park %s restored as %s, the source has %s", id, item, source.Parks[id])
		}
		var p struct {
			NeighbourhoodID string `json:"neighbourhood_id"`
		}
		json.Unmarshal(item, &p)
		if _, ok := restored.Neighbourhoods[p.NeighbourhoodID]; !ok {
			t.Errorf("park %s refers to neighbourhood %s, which the restored core lacks", id, p.NeighbourhoodID)
		}
	}
	if len(restored.Parks) >= len(source.Parks) {
		t.Errorf("restored %d parks, source %d: the writes after the backup should be missing", len(restored.Parks), len(source.Parks))
	}
	t.Logf("source: %d neighbourhoods, %d parks; restored: %d, %d; acknowledged before the backup: %d, %d",
		len(source.Neighbourhoods), len(source.Parks), len(restored.Neighbourhoods), len(restored.Parks), len(beforeNbhs), len(beforeParks))
}
