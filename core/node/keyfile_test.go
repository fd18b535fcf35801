package node

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kvarter/kvarter/sdk/seal"
)

func TestLoadKeyFile(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	t.Run("OK", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "data", KeyFileName)
		k1, err := LoadKeyFile(path, logger)
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("new key file has mode %v, want 0600", st.Mode().Perm())
		}
		// A restart, or another node given the same file, derives the same keys.
		k2, err := LoadKeyFile(path, logger)
		if err != nil {
			t.Fatal(err)
		}
		p1, _ := k1.PublicKey("assemblies", "m1")
		p2, _ := k2.PublicKey("assemblies", "m1")
		if p1 != p2 {
			t.Error("the same key file gave two different vote keys")
		}
	})
	t.Run("ConcurrentFirstStart", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), KeyFileName)
		keys := make([]seal.PublicKey, 8)
		var wg sync.WaitGroup
		for i := range keys {
			wg.Go(func() {
				k, err := LoadKeyFile(path, logger)
				if err != nil {
					t.Error(err)
					return
				}
				keys[i], _ = k.PublicKey("budgeting", "c1")
			})
		}
		wg.Wait()
		for _, k := range keys[1:] {
			if k != keys[0] {
				t.Fatal("nodes starting at once made different master keys")
			}
		}
	})
	t.Run("Rotation", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), KeyFileName)
		old, err := LoadKeyFile(path, logger)
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := old.PublicKey("assemblies", "m1")
		s, _ := seal.NewSealer(pub)
		sealed, _ := s.Seal([]byte("yes"), 8)
		// Rotate: a new current key on top, the old one kept below it.
		b, _ := os.ReadFile(path)
		if err := os.WriteFile(path, []byte("# rotated\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"+string(b)), 0o600); err != nil {
			t.Fatal(err)
		}
		rotated, err := LoadKeyFile(path, logger)
		if err != nil {
			t.Fatal(err)
		}
		if p, _ := rotated.PublicKey("assemblies", "m1"); p == pub {
			t.Error("the rotated key file still hands out the old key")
		}
		opened, err := rotated.Open("assemblies", "m1", [][]byte{sealed})
		if err != nil || string(opened[0]) != "yes" {
			t.Errorf("a ballot sealed before the rotation: %q, %v", opened, err)
		}
	})
	t.Run("ErrBadFile", func(t *testing.T) {
		for name, content := range map[string]string{
			"empty":     "# nothing\n\n",
			"not64":     "not base64!\n",
			"too short": "AAECAw==\n",
		} {
			path := filepath.Join(t.TempDir(), KeyFileName)
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadKeyFile(path, logger)
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Errorf("%s: err %v, want one naming the file", name, err)
			}
			if b, _ := os.ReadFile(path); string(b) != content {
				t.Errorf("%s: a bad key file was rewritten", name)
			}
		}
	})
}

func TestConfig_KeyFilePath(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cfg, err := LoadConfig("", env(map[string]string{"KVARTER_DATA_DIR": "/srv/kvarter"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.KeyFilePath(); got != "/srv/kvarter/kvarter.key" {
		t.Errorf("default key file %q", got)
	}
	cfg, err = LoadConfig("", env(map[string]string{"KVARTER_KEY_FILE": "/etc/kvarter/master.key"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.KeyFilePath(); got != "/etc/kvarter/master.key" {
		t.Errorf("KVARTER_KEY_FILE gave %q", got)
	}
	file := filepath.Join(t.TempDir(), "city.json")
	if err := os.WriteFile(file, []byte(`{"key_file": "/run/secrets/kvarter.key"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if cfg, err = LoadConfig(file, env(nil)); err != nil || cfg.KeyFilePath() != "/run/secrets/kvarter.key" {
		t.Errorf("key_file in the config: %q, %v", cfg.KeyFilePath(), err)
	}
}
