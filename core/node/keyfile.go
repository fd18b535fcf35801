package node

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/kvarter/kvarter/sdk/seal"
)

// KeyFileName is the master key file's name in the data directory by default.
const KeyFileName = "kvarter.key"

// KeyFilePath is where the master key file is: key_file (KVARTER_KEY_FILE), or
// kvarter.key in the data directory.
func (c Config) KeyFilePath() string {
	if c.KeyFile != "" {
		return c.KeyFile
	}
	return filepath.Join(c.DataDir, KeyFileName)
}

// keyFileHeader starts a new key file; it tells an operator what they are looking at.
const keyFileHeader = `# Kvarter master key (DESIGN.md §13, docs/security.md). Keep it secret, back it up
# apart from the database, and give every node the same file. One key per line, base64;
# the first is current, any below it only open ballots sealed before a rotation.
`

// LoadKeyFile reads the master key file at path, creating it with a new random key
// (mode 0600) when there is none. Several nodes starting at once on a shared file
// agree: the file is created exclusively, and a node that loses the race reads the
// winner's key.
func LoadKeyFile(path string, logger *slog.Logger) (*seal.Keyring, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := createKeyFile(path); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, err
		} else if err == nil {
			logger.Warn("created a new master key file; back it up apart from the database", "key_file", path)
		}
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		logger.Warn("the master key file can be read by other users; chmod 600 it", "key_file", path, "mode", st.Mode().Perm().String())
	}
	keys, err := parseKeyFile(b)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return seal.NewKeyring(keys...)
}

func createKeyFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	key := make([]byte, seal.KeySize)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	// Written under a temporary name and linked into place, so that no node ever reads
	// a half-written file, and link fails if another node got there first.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".kvarter-key-*")
	if err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("key file: %w", err)
	}
	content := keyFileHeader + base64.StdEncoding.EncodeToString(key) + "\n"
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return fmt.Errorf("key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("key file: %w", err)
	}
	return nil
}

// parseKeyFile reads the keys of a key file: one base64 key per line, blank lines and
// lines starting with # ignored.
func parseKeyFile(b []byte) ([][]byte, error) {
	var keys [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := base64.StdEncoding.DecodeString(line)
		if err != nil || len(k) != seal.KeySize {
			return nil, fmt.Errorf("line %d is not a base64 key of %d bytes", n, seal.KeySize)
		}
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, errors.New("holds no key")
	}
	return keys, nil
}
