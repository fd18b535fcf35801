package pluginhost_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
)

// TestHost_PluginGrantsOnlyOwnPermissions: a plugin whose manifest grants or bundles a
// permission outside its own namespace — a core power, another plugin's permission,
// the wildcard — is refused activation with a message naming it, and residents gain
// nothing from it: they still cannot approve memberships.
func TestHost_PluginGrantsOnlyOwnPermissions(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := startNode(t, db, "alpha", "greedy", "bundler", "thief", "wildcard")
		if st := state(n, "alpha"); st.State != core.PluginActive {
			t.Fatalf("alpha, which grants only its own permissions: %+v", st)
		}
		for name, want := range map[string]string{
			"greedy":   `may only grant its own permissions (starting with "greedy.")`,
			"bundler":  `bundles the permission "core.neighbourhood.manage"`,
			"thief":    `gives the permission "alpha.city.run"`,
			"wildcard": `gives the permission "*"`,
		} {
			if st := state(n, name); st.State != core.PluginFailed || !strings.Contains(st.LastError, want) {
				t.Errorf("%s: state %s, error %q; want failed with %q", name, st.State, st.LastError, want)
			}
		}
		// The attack: a resident approving someone's membership.
		admin := coretest.Admin(t, n, "admin@city.example")
		resident, nbh := verifiedMember(t, n, admin, "resident@example.org")
		applicant := coretest.Register(t, n, "applicant@example.org", "Applicant")
		applicant.Must(201, "POST", "/api/v1/neighbourhoods/"+nbh+"/memberships", map[string]any{})
		r := resident.Do("POST", "/api/v1/neighbourhoods/"+nbh+"/memberships/"+applicant.ID+"/approve", map[string]any{})
		if r.Status != 403 {
			t.Fatalf("a resident approving a membership = %d, want 403: %s", r.Status, r.Body)
		}
		var stray int
		if err := coretest.SQL(n).Get(&stray, `SELECT COUNT(*) FROM role_permissions WHERE source IN ('greedy', 'bundler', 'thief', 'wildcard')`); err != nil {
			t.Fatal(err)
		}
		if stray != 0 {
			t.Fatalf("%d role permissions of refused plugins were stored", stray)
		}
	})
}

// TestHost_MembershipRolesNotGrantable: resident and the organisation roles follow
// from verified membership. A coordinator cannot make someone verified elsewhere a
// resident of their neighbourhood, even with plugins granting residents permissions,
// and nobody can take the role from a verified member by revoking it.
func TestHost_MembershipRolesNotGrantable(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := startNode(t, db, "alpha") // alpha grants resident alpha.secret.read
		admin := coretest.Admin(t, n, "admin@city.example")
		coord, nbh := verifiedMember(t, n, admin, "coordinator@example.org")
		admin.Must(201, "POST", "/api/v1/roles/grants", map[string]string{"user_id": coord.ID, "role": "coordinator", "domain": "nbh:" + nbh})
		outsider, _ := verifiedMember(t, n, admin, "outsider@example.org")
		org := admin.Must(201, "POST", "/api/v1/organisations", map[string]any{"name": "Allotment Society", "kind": "association"}).JSON()["id"].(string)
		secret := "/api/v1/alpha/nbh/" + nbh + "/secret"
		mustCall(t, n, 403, "GET", secret, outsider.Token)

		attempts := []struct {
			name   string
			by     *coretest.User
			method string
			grant  map[string]string
		}{
			{"CoordinatorGrantsResident", coord, "POST", map[string]string{"user_id": outsider.ID, "role": "resident", "domain": "nbh:" + nbh}},
			{"AdminGrantsResident", admin, "POST", map[string]string{"user_id": outsider.ID, "role": "resident", "domain": "nbh:" + nbh}},
			{"AdminGrantsResidentCityWide", admin, "POST", map[string]string{"user_id": outsider.ID, "role": "resident", "domain": "city"}},
			{"AdminGrantsOrgMember", admin, "POST", map[string]string{"user_id": outsider.ID, "role": "org_member", "domain": "org:" + org}},
			{"AdminGrantsOrgRepresentative", admin, "POST", map[string]string{"user_id": outsider.ID, "role": "org_representative", "domain": "org:" + org}},
			{"AdminRevokesResident", admin, "DELETE", map[string]string{"user_id": coord.ID, "role": "resident", "domain": "nbh:" + nbh}},
		}
		for _, a := range attempts {
			t.Run(a.name, func(t *testing.T) {
				r := a.by.For(t).Do(a.method, "/api/v1/roles/grants", a.grant)
				e, _ := r.JSON()["error"].(map[string]any)
				msg, _ := e["message"].(string)
				if r.Status != 403 || !strings.Contains(msg, "follows from a verified membership") {
					t.Fatalf("%s %v = %d %s, want 403 saying the role follows from membership", a.method, a.grant, r.Status, r.Body)
				}
			})
		}
		var grants int
		if err := coretest.SQL(n).Get(&grants, coretest.SQL(n).Rebind(`SELECT COUNT(*) FROM role_grants WHERE role IN ('resident', 'org_member', 'org_representative')`)); err != nil {
			t.Fatal(err)
		}
		if grants != 0 {
			t.Fatalf("%d membership roles were granted by hand", grants)
		}
		mustCall(t, n, 403, "GET", secret, outsider.Token)
		mustCall(t, n, 200, "GET", secret, coord.Token)
	})
}

// TestHost_ClientHeaders: what a client says about itself never reaches a plugin —
// neither a request id of its choosing nor an identity header spelt with underscores
// or in another case, which many servers and frameworks read as the same header.
func TestHost_ClientHeaders(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := startNode(t, db, "alpha")
		u := coretest.Register(t, n, "someone@example.org", "Someone")
		req, _ := http.NewRequest("GET", n.URL()+"/api/v1/alpha/headers", nil)
		req.Header.Set("Authorization", "Bearer "+u.Token)
		// Set as written, not canonicalised, the way an attacker's client sends them.
		for _, name := range []string{"X-Request-ID", "X_Forwarded_User", "x_remote_user", "Remote_User", "X_KVARTER_USER",
			"X_Auth_Request_User", "X_Csrf_Token", "Proxy_Authorization", "x-forwarded-email", "X_User_Id"} {
			req.Header[name] = []string{"attacker-chosen"}
		}
		req.Header["Accept-Language"] = []string{"fi"}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got struct {
			Header    map[string][]string
			RequestID string `json:"request_id"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("headers = %d %v", resp.StatusCode, err)
		}
		for k, vs := range got.Header {
			for _, v := range vs {
				if v == "attacker-chosen" {
					t.Errorf("the client's %s: %s reached the plugin", k, v)
				}
			}
		}
		if got.Header["Accept-Language"] == nil {
			t.Errorf("an ordinary header was dropped too: %v", got.Header)
		}
		if got.RequestID == "" || got.RequestID == "attacker-chosen" || got.RequestID != resp.Header.Get("X-Request-Id") {
			t.Errorf("plugin's request id %q, the client's %q, the answer's %q", got.RequestID, "attacker-chosen", resp.Header.Get("X-Request-Id"))
		}
	})
}

// swapOnLaunch is a log handler that replaces a plugin's executable at the moment
// go-plugin reports it is preparing to start it: after the host has checked the
// file's sha256, before the process is executed. That is the window an attacker who
// can write the plugin's directory races for.
type swapOnLaunch struct {
	from, to string
	swapped  *atomic.Bool
}

func (h swapOnLaunch) Enabled(context.Context, slog.Level) bool { return true }
func (h swapOnLaunch) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h swapOnLaunch) WithGroup(string) slog.Handler            { return h }
func (h swapOnLaunch) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "automatic mTLS") && h.swapped.CompareAndSwap(false, true) {
		return os.Rename(h.from, h.to)
	}
	return nil
}

// TestHost_PinnedExecutableSwap: replacing a pinned plugin's file between the checksum
// and the start does not run the replacement; the process runs the bytes that were
// checked, and the next launch refuses the replacement.
func TestHost_PinnedExecutableSwap(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		good, err := os.ReadFile(probeBin)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		pinned, evil := filepath.Join(dir, "probe"), filepath.Join(dir, "evil")
		// The replacement is the probe with bytes appended: it runs the same and
		// tells by its hash which one the host started.
		bad := append(append([]byte(nil), good...), []byte("tampered")...)
		if err := os.WriteFile(pinned, good, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(evil, bad, 0o755); err != nil {
			t.Fatal(err)
		}
		goodSum, badSum := sha256.Sum256(good), sha256.Sum256(bad)

		cfg := db.Config
		cfg.Plugins = []node.PluginConfig{{Name: "probe", Path: pinned, SHA256: hex.EncodeToString(goodSum[:])}}
		if cfg.DatabaseURL != "" {
			cfg.PluginStorePrefix = pgPrefix(t, cfg.DatabaseURL)
		}
		opt := coretest.Options()
		opt.HostVersion = "0.1.0"
		swapped := &atomic.Bool{}
		n, err := node.New(context.Background(), cfg, slog.New(swapOnLaunch{from: evil, to: pinned, swapped: swapped}), opt)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = n.Close(ctx)
		})
		if !swapped.Load() {
			t.Fatal("the executable was not swapped during the launch; the test did not attack")
		}
		var got struct{ SHA256 string }
		if err := json.Unmarshal(mustCall(t, n, 200, "GET", "/api/v1/probe/exe", "").Body, &got); err != nil {
			t.Fatal(err)
		}
		switch got.SHA256 {
		case hex.EncodeToString(goodSum[:]):
		case hex.EncodeToString(badSum[:]):
			t.Fatal("the host ran the executable swapped in after its checksum was verified")
		default:
			t.Fatalf("the plugin runs bytes with sha256 %s, neither the pinned nor the swapped file", got.SHA256)
		}
		// The file now at the path is the replacement: the next launch refuses it.
		admin := coretest.Admin(t, n, "admin@city.example")
		admin.SkipOpenAPICheck = true
		admin.Do("POST", "/api/v1/admin/plugins/probe/restart", nil)
		waitFor(t, 10*time.Second, "restart refused", func() bool {
			st := state(n, "probe")
			return st.State == core.PluginFailed && strings.Contains(st.LastError, "sha256")
		})
		if msg := state(n, "probe").LastError; !strings.Contains(msg, pinned) {
			t.Errorf("the refusal does not name the file: %s", msg)
		}
	})
}
