package sqlstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
)

func TestIdentityService_SignInExternal(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		n := coretest.StartNode(t, db.Config, coretest.Options())
		ctx := context.Background()
		rows := func() (c [3]int) {
			for i, table := range []string{"users", "sessions", "user_identities"} {
				if err := coretest.SQL(n).Get(&c[i], "SELECT COUNT(*) FROM "+table); err != nil {
					t.Fatal(err)
				}
			}
			return c
		}

		t.Run("OK", func(t *testing.T) {
			long := strings.Repeat("Å", 150) // a name longer than an account's is cut, not refused
			res, err := n.Identity.SignInExternal(ctx, core.ExternalSignIn{Identity: core.ExternalIdentity{Provider: "city", Subject: "s-1",
				Email: "ext@example.org", EmailVerified: true, Name: long}, Language: "xx", ClientIP: "127.0.0.1"})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Created || len([]rune(res.User.DisplayName)) != 100 || !res.User.EmailVerified || res.User.Language != "en" || res.Token == "" {
				t.Fatalf("result = %+v", res)
			}
			again, err := n.Identity.SignInExternal(ctx, core.ExternalSignIn{Identity: core.ExternalIdentity{Provider: "city", Subject: "s-1", Email: "ext@example.org"}})
			if err != nil || again.Created || again.User.ID != res.User.ID {
				t.Fatalf("second sign-in = %+v, %v", again, err)
			}
		})

		t.Run("ErrLinkRequired", func(t *testing.T) {
			if _, err := n.Identity.Register(ctx, core.Registration{Email: "Local@Example.org", Password: "a long enough passphrase", DisplayName: "L", Language: "en"}); err != nil {
				t.Fatal(err)
			}
			before := rows()
			_, err := n.Identity.SignInExternal(ctx, core.ExternalSignIn{Identity: core.ExternalIdentity{Provider: "city", Subject: "s-2",
				Email: "local@example.org", EmailVerified: true}})
			if core.ErrorCode(err) != core.ECONFLICT || !strings.Contains(err.Error(), "sign in to it once") {
				t.Fatalf("err = %v", err)
			}
			if after := rows(); after != before {
				t.Fatalf("rows %v → %v", before, after)
			}
			// The same address unverified by the provider opens an account without
			// the address, rather than take it or link to its owner.
			res, err := n.Identity.SignInExternal(ctx, core.ExternalSignIn{Identity: core.ExternalIdentity{Provider: "city", Subject: "s-3", Email: "local@example.org"}})
			if err != nil || !res.Created || res.User.Email != "" {
				t.Fatalf("unverified = %+v, %v", res, err)
			}
			// Nor does an address no account has: the provider does not vouch for
			// it, so it may be someone else's (reviewer's S3).
			fresh, err := n.Identity.SignInExternal(ctx, core.ExternalSignIn{Identity: core.ExternalIdentity{Provider: "city", Subject: "s-9", Email: "nobody-yet@example.org"}})
			if err != nil || !fresh.Created || fresh.User.Email != "" || fresh.User.EmailVerified {
				t.Fatalf("unverified new address = %+v, %v", fresh, err)
			}
			if _, err := n.Identity.Register(ctx, core.Registration{Email: "nobody-yet@example.org", Password: "a long enough passphrase", DisplayName: "Owner", Language: "en"}); err != nil {
				t.Fatalf("the address's owner cannot register it: %v", err)
			}
		})

		t.Run("ErrBadInput", func(t *testing.T) {
			before := rows()
			for name, id := range map[string]core.ExternalIdentity{
				"NULInSubject":      {Provider: "city", Subject: "a\x00b"},
				"LongSubject":       {Provider: "city", Subject: strings.Repeat("s", 256)},
				"NoSubject":         {Provider: "city"},
				"NULInName":         {Provider: "city", Subject: "s-4", Name: "A\x00"},
				"BadEmail":          {Provider: "city", Subject: "s-5", Email: "not an address\x00"},
				"BadUTF8":           {Provider: "city", Subject: "s-6\xff"},
				"LongProvider":      {Provider: strings.Repeat("p", 65), Subject: "s-7"},
				"ControlInProvider": {Provider: "ci\nty", Subject: "s-8"},
			} {
				_, err := n.Identity.SignInExternal(ctx, core.ExternalSignIn{Identity: id})
				if core.ErrorCode(err) != core.EINVALID {
					t.Errorf("%s: err = %v, want invalid", name, err)
				}
			}
			if after := rows(); after != before {
				t.Fatalf("rows %v → %v", before, after)
			}
		})
	})
}
