package core

import "testing"

func TestCSRFTokenBelongsToItsSession(t *testing.T) {
	tok := CSRFToken("kvs_session-a")
	if tok != CSRFToken("kvs_session-a") {
		t.Fatal("the token of one session must not change between calls")
	}
	if !CheckCSRF("kvs_session-a", tok) {
		t.Error("the session's own token was refused")
	}
	for _, presented := range []string{"", tok[:len(tok)-1], CSRFToken("kvs_session-b"), tok + "x"} {
		if CheckCSRF("kvs_session-a", presented) {
			t.Errorf("token %q accepted for another session", presented)
		}
	}
}
