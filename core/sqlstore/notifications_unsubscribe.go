package sqlstore

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/core"
)

// One-click unsubscribe (RFC 8058): every notification mail carries a link that sets
// its recipient's delivery of its kind to in-app only, without signing in. The link
// holds a token that names the person and the kind and is signed with HMAC-SHA256
// under a key derived from the node's key file, so any node checks it and nobody
// forges one for another person or another kind.
//
// A digest mail's token names the digest instead of a kind ("digest.daily" or
// "digest.weekly"): it turns every kind the person hears of in that digest to in-app
// only, since a digest mixes kinds and its reader wants the digest gone.
//
// The token is base64url(user) "." base64url(kind) "." base64url(mac); it does not
// expire (an old mail's link still works, as the RFC expects), and rotating the key
// file retires every link sent before.

// Digest pseudo-kinds of the unsubscribe tokens of digest mails.
const (
	DigestDailyKind  = "digest.daily"
	DigestWeeklyKind = "digest.weekly"
)

// unsubscribeMAC signs (user, kind); the label keeps it apart from any other use of
// the key.
func (s *NotificationService) unsubscribeMAC(userID, kind string) []byte {
	m := hmac.New(sha256.New, s.Settings.UnsubscribeKey)
	m.Write([]byte("kvarter unsubscribe v1\x00" + userID + "\x00" + kind))
	return m.Sum(nil)
}

// UnsubscribeToken signs (user, kind) for the one-click link of a mail.
func (s *NotificationService) UnsubscribeToken(userID, kind string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(userID)) + "." + enc.EncodeToString([]byte(kind)) + "." + enc.EncodeToString(s.unsubscribeMAC(userID, kind))
}

// parseUnsubscribeToken returns the person and kind a token signs, or false.
func (s *NotificationService) parseUnsubscribeToken(token string) (userID, kind string, ok bool) {
	if len(s.Settings.UnsubscribeKey) == 0 || len(token) > 1000 {
		return "", "", false
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", "", false
	}
	enc := base64.RawURLEncoding
	u, err1 := enc.DecodeString(parts[0])
	k, err2 := enc.DecodeString(parts[1])
	mac, err3 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return "", "", false
	}
	// hmac.Equal compares in constant time, so the answer's timing says nothing about
	// how much of a forged signature was right.
	if !hmac.Equal(mac, s.unsubscribeMAC(string(u), string(k))) {
		return "", "", false
	}
	return string(u), string(k), true
}

// Unsubscribe checks token and sets its person's delivery of its kind to in-app only
// (for a digest token: of every kind they hear of in that digest). It returns the kind;
// a digest's is named by its pseudo-kind.
func (s *NotificationService) Unsubscribe(ctx context.Context, token string) (core.NotificationKind, error) {
	userID, kind, ok := s.parseUnsubscribeToken(token)
	if !ok {
		return core.NotificationKind{}, core.InvalidField("token", core.RuleFormat, "is not a valid unsubscribe link; copy the whole link from the mail")
	}
	out := core.NotificationKind{Name: kind, Default: core.DeliverInApp}
	if k, ok := s.kind(kind); ok {
		out = k
	}
	now := s.DB.now()
	err := s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		var live int
		if err := get(ctx, tx, &live, `SELECT count(*) FROM users WHERE id = ? AND deleted_at IS NULL`, userID); err != nil {
			return fmt.Errorf("unsubscribe: %w", err)
		}
		if live == 0 {
			return nil // an erased account hears nothing anyway
		}
		var digest core.Delivery
		switch kind {
		case DigestDailyKind:
			digest = core.DeliverDaily
		case DigestWeeklyKind:
			digest = core.DeliverWeekly
		default:
			return setDelivery(ctx, tx, userID, kind, core.DeliverInApp, now)
		}
		chosen, err := s.chosenDeliveries(ctx, tx, userID)
		if err != nil {
			return err
		}
		for _, k := range s.declaredKinds() {
			d, ok := chosen[k.Name]
			if !ok {
				d = k.Default
			}
			if d == digest {
				if err := setDelivery(ctx, tx, userID, k.Name, core.DeliverInApp, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return core.NotificationKind{}, err
	}
	return out, nil
}
