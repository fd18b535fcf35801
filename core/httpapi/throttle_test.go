package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/core/sqlstore"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// Limits of coretest.Options, which these tests attack.
const (
	maxPerAccountAddr = 5
	maxPerAccount     = 20
	maxPerClientAddr  = 50
)

// signIn posts one login straight to a node from the loopback address from, with the
// extra headers given, and returns the status and the token (when signed in).
func signIn(t *testing.T, n *node.Node, from, email, password string, header map[string]string) (int, string, error) {
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	req, _ := http.NewRequest("POST", n.URL()+"/api/v1/auth/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct{ Token string }
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out.Token, nil
}

func mustSignIn(t *testing.T, n *node.Node, want int, from, email, password string, header map[string]string) string {
	t.Helper()
	status, token, err := signIn(t, n, from, email, password, header)
	if err != nil {
		t.Fatalf("sign in from %s: %v", from, err)
	}
	if status != want {
		t.Fatalf("sign in as %s from %s = %d, want %d", email, from, status, want)
	}
	return token
}

// TestLoginThrottle_Concurrent: 80 sign-ins on one account at the same moment — 79
// wrong, 1 right — are each counted before any password is checked, so no more than
// the limit are checked at all, and the right password gets in only if it was among
// them. On PostgreSQL the attempts go to two nodes sharing the database.
func TestLoginThrottle_Concurrent(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		nodes := []*node.Node{coretest.StartNode(t, db.Config, coretest.Options())}
		if db.Name == sqlstore.Postgres {
			nodes = append(nodes, coretest.StartNode(t, db.Config, coretest.Options()))
		}
		u := coretest.Register(t, nodes[0], "victim@example.org", "Victim")
		const attempts, right, attacker = 80, 57, "127.0.0.2"
		statuses := make([]int, attempts)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range attempts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pw := fmt.Sprintf("wrong guess number %d", i)
				if i == right {
					pw = u.Password
				}
				<-start
				status, _, err := signIn(t, nodes[i%len(nodes)], attacker, u.Email, pw, nil)
				if err != nil {
					t.Errorf("attempt %d: %v", i, err)
				}
				statuses[i] = status
			}()
		}
		close(start)
		wg.Wait()
		checked := 0
		for i, s := range statuses {
			switch s {
			case 200, 401:
				checked++
			case 429:
			default:
				t.Errorf("attempt %d answered %d", i, s)
			}
		}
		if checked > maxPerAccountAddr {
			t.Fatalf("%d of %d concurrent attempts had their password checked (right one: %d); the limit is %d",
				checked, attempts, statuses[right], maxPerAccountAddr)
		}
		t.Logf("%d attempts checked, right password answered %d", checked, statuses[right])
		// Whatever the order, the account is now shut to that address.
		mustSignIn(t, nodes[len(nodes)-1], 429, attacker, u.Email, u.Password, nil)
	})
}

// TestLoginThrottle_StrangerCannotLockOutOwner: wrong guesses from other addresses —
// one stranger, then many — shut the account to those addresses and to new ones, but
// its owner still signs in from the address they use.
func TestLoginThrottle_StrangerCannotLockOutOwner(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		// The owner signs in from 127.0.0.1, their usual address.
		owner := coretest.Register(t, n, "owner@example.org", "Owner")
		guess := func(from string, times int) {
			t.Helper()
			for range times {
				mustSignIn(t, n, 401, from, owner.Email, "a stranger's wrong guess", nil)
			}
		}

		// One stranger spends the allowance of their address.
		guess("127.0.0.2", maxPerAccountAddr)
		mustSignIn(t, n, 429, "127.0.0.2", owner.Email, "a stranger's wrong guess", nil)
		mustSignIn(t, n, 200, "127.0.0.1", owner.Email, owner.Password, nil)

		// Strangers at enough addresses spend the account's allowance: the account is
		// shut to every address it has not signed in from, even with the right
		// password, but not to its owner's.
		for i := 3; i < 3+(maxPerAccount-maxPerAccountAddr)/maxPerAccountAddr; i++ {
			guess(fmt.Sprintf("127.0.0.%d", i), maxPerAccountAddr)
		}
		mustSignIn(t, n, 429, "127.0.0.40", owner.Email, owner.Password, nil)
		mustSignIn(t, n, 200, "127.0.0.1", owner.Email, owner.Password, nil)

		// The owner's own address has its own allowance, which only the owner uses.
		for range maxPerAccountAddr {
			mustSignIn(t, n, 401, "127.0.0.1", owner.Email, "the owner mistypes", nil)
		}
		mustSignIn(t, n, 429, "127.0.0.1", owner.Email, owner.Password, nil)
	})
}

// TestLoginThrottle_Address: one address guessing across many accounts is stopped by
// the per-address limit, whatever emails it tries.
func TestLoginThrottle_Address(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		u := coretest.Register(t, n, "sprayed@example.org", "Sprayed")
		for i := range maxPerClientAddr {
			mustSignIn(t, n, 401, "127.0.0.9", fmt.Sprintf("nobody%d@example.org", i/maxPerAccountAddr), "password spraying", nil)
		}
		mustSignIn(t, n, 429, "127.0.0.9", u.Email, u.Password, nil)
		mustSignIn(t, n, 200, "127.0.0.10", u.Email, u.Password, nil)
	})
}

// sessionAddress is the client address the node recorded for a session token.
func sessionAddress(t *testing.T, n *node.Node, token string) string {
	t.Helper()
	c := coretest.NewClient(t, n)
	c.Token = token
	items := c.Must(200, "GET", "/api/v1/me/sessions", nil).JSON()["items"].([]any)
	for _, it := range items {
		if s := it.(map[string]any); s["current"] == true || len(items) == 1 {
			addr, _ := s["client_ip"].(string)
			return addr
		}
	}
	t.Fatalf("no current session in %v", items)
	return ""
}

// TestClientAddress: the address sessions and throttles are keyed by is the peer's,
// unless the peer is a trusted proxy; then it is the right-most address in the proxy
// header that is not a trusted proxy. A client cannot choose it.
func TestClientAddress(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		start := func(t *testing.T, trusted ...string) (*node.Node, *coretest.User) {
			cfg := db.Config
			// Each node gets a database of its own: throttles must not carry over.
			if cfg.DatabaseURL != "" {
				cfg.DatabaseURL = coretest.PostgresSchema(t, sdktest.PostgresURL(t))
			}
			cfg.ProxyHeader, cfg.TrustedProxies = "X-Forwarded-For", trusted
			if cfg.DataDir != "" {
				cfg.DataDir = t.TempDir()
			}
			n := coretest.StartNode(t, cfg, coretest.Options())
			return n, coretest.Register(t, n, "someone@example.org", "Someone")
		}
		cases := []struct {
			name    string
			trusted []string
			from    string // the peer's address
			header  string // X-Forwarded-For, if sent
			want    string // the client address the session records
			// forged, when set, rotates the part of the header a client can write
			// while guessing across accounts: the per-address limit must still bite.
			forged func(i int) string
		}{
			{"HeaderIgnoredWithoutTrustedProxies", nil, "127.0.0.1", "203.0.113.9", "127.0.0.1",
				func(i int) string { return fmt.Sprintf("198.51.100.%d", i) }},
			{"RightMostUntrusted", []string{"127.0.0.1", "10.0.0.0/8"}, "127.0.0.1", "198.51.100.7, 203.0.113.5, 10.1.2.3", "203.0.113.5",
				func(i int) string { return fmt.Sprintf("198.51.100.%d, 203.0.113.5", i) }},
			{"NoHeaderBehindProxy", []string{"127.0.0.1"}, "127.0.0.1", "", "127.0.0.1", nil},
			{"UntrustedPeer", []string{"127.0.0.1"}, "127.0.0.2", "203.0.113.5", "127.0.0.2", nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				xff := func(v string) map[string]string {
					if v == "" {
						return nil
					}
					return map[string]string{"X-Forwarded-For": v}
				}
				n, u := start(t, tc.trusted...)
				tok := mustSignIn(t, n, 200, tc.from, u.Email, u.Password, xff(tc.header))
				if got := sessionAddress(t, n, tok); got != tc.want {
					t.Fatalf("session recorded client %q, want %s", got, tc.want)
				}
				if tc.forged == nil {
					return
				}
				for i := range maxPerClientAddr {
					mustSignIn(t, n, 401, tc.from, fmt.Sprintf("nobody%d@example.org", i/maxPerAccountAddr), "spraying", xff(tc.forged(i)))
				}
				mustSignIn(t, n, 429, tc.from, u.Email, u.Password, xff(tc.forged(maxPerClientAddr)))
			})
		}
	})
}

// BenchmarkLogin measures sign-in through the real server with cheap test hashing, so
// that what the throttle costs in the database is not hidden behind argon2id:
// Right is a successful sign-in (counted, then taken back), Refused a guess at an
// account already locked to that address.
func BenchmarkLogin(b *testing.B) {
	for _, db := range coretest.Databases(b) {
		b.Run(db.Name, func(b *testing.B) {
			n := coretest.StartNode(b, db.Config, coretest.Options())
			u := coretest.Register(b, n, "bench@example.org", "Bench")
			locked := coretest.Register(b, n, "locked@example.org", "Locked")
			client := &http.Client{}
			post := func(email, pw string, want int) {
				body, _ := json.Marshal(map[string]string{"email": email, "password": pw})
				resp, err := client.Post(n.URL()+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want {
					b.Fatalf("login %s = %d, want %d", email, resp.StatusCode, want)
				}
			}
			b.Run("Right", func(b *testing.B) {
				for b.Loop() {
					post(u.Email, u.Password, 200)
				}
			})
			for range maxPerAccountAddr {
				post(locked.Email, "wrong", 401)
			}
			b.Run("Refused", func(b *testing.B) {
				for b.Loop() {
					post(locked.Email, "wrong", 429)
				}
			})
		})
	}
}
