package password_test

import (
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core/password"
)

func TestHasher_Verify(t *testing.T) {
	h := password.Hasher{Params: password.TestParams}
	enc, err := h.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("encoding = %q, want PHC argon2id", enc)
	}
	t.Run("OK", func(t *testing.T) {
		ok, err := h.Verify("correct horse battery", enc)
		if err != nil || !ok {
			t.Fatalf("Verify = %v, %v; want true", ok, err)
		}
	})
	t.Run("WrongPassword", func(t *testing.T) {
		ok, err := h.Verify("correct horse batterx", enc)
		if err != nil || ok {
			t.Fatalf("Verify = %v, %v; want false", ok, err)
		}
	})
	t.Run("ParamsFromHash", func(t *testing.T) {
		// A hash made with other parameters still verifies.
		strong := password.Hasher{Params: password.DefaultParams}
		enc2, err := strong.Hash("another long secret")
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := h.Verify("another long secret", enc2); err != nil || !ok {
			t.Fatalf("Verify = %v, %v", ok, err)
		}
	})
	t.Run("ErrMalformed", func(t *testing.T) {
		if _, err := h.Verify("x", "$bcrypt$abc"); err == nil {
			t.Fatal("want error for a non-argon2id hash")
		}
	})
	t.Run("SaltDiffers", func(t *testing.T) {
		enc2, _ := h.Hash("correct horse battery")
		if enc2 == enc {
			t.Fatal("two hashes of one password must differ (random salt)")
		}
	})
}

func TestCheck(t *testing.T) {
	tests := []struct {
		pw       string
		personal []string
		wantOK   bool
	}{
		{"short", nil, false},
		{strings.Repeat("x", 129), nil, false},
		{"correct horse battery staple", nil, true},
		{"Password123", nil, false},
		{"QWERTYUIOP", nil, false},
		{"aaaaaaaaaaaa", nil, false},
		{"abcabcabcabc", nil, false},
		{"0123456789", nil, false},
		{"mavi-kapı-sokak-7", nil, true},
		{"ayse.yilmaz", []string{"ayse.yilmaz@example.org", "ayse.yilmaz"}, false},
		{"ayse.yilmaz12", []string{"ayse.yilmaz"}, false},
		{"\xff\xfe invalid utf8!", nil, false},
		{strings.Repeat("é", 10), nil, false}, // one repeated rune
		{"çok güzel bir gün", nil, true},
	}
	for _, tt := range tests {
		got := password.Check(tt.pw, tt.personal...)
		if (got == "") != tt.wantOK {
			t.Errorf("Check(%q) = %q, want ok=%v", tt.pw, got, tt.wantOK)
		}
	}
}

// BenchmarkHasher_Hash measures the cost of one login's argon2id computation with the
// production parameters.
func BenchmarkHasher_Hash(b *testing.B) {
	h := password.Hasher{Params: password.DefaultParams}
	for b.Loop() {
		if _, err := h.Hash("correct horse battery"); err != nil {
			b.Fatal(err)
		}
	}
}
