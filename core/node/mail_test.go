package node_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kvarter/kvarter/core/node"
)

func TestConfig_MailSender(t *testing.T) {
	t.Run("NotConfigured", func(t *testing.T) {
		cfg, err := node.LoadConfig(writeConfig(t, `{"listen": "127.0.0.1:0"}`), noEnv)
		if err != nil {
			t.Fatal(err)
		}
		if s, err := cfg.MailSender(noEnv); s != nil || err != nil || cfg.Mail.Configured() {
			t.Fatalf("sender %v, %v", s, err)
		}
	})
	t.Run("PasswordFromEnvAndFile", func(t *testing.T) {
		secret := filepath.Join(t.TempDir(), "smtp-password")
		if err := os.WriteFile(secret, []byte("hunter2-file\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, section := range []string{
			`{"host": "smtp.espoo.fi", "from": "noreply@espoo.fi", "auth": "plain", "username": "kvarter", "password_env": "SMTP_PASSWORD"}`,
			`{"host": "smtp.espoo.fi", "from": "noreply@espoo.fi", "auth": "login", "username": "kvarter", "password_file": "` + secret + `"}`,
		} {
			cfg, err := node.LoadConfig(writeConfig(t, `{"mail": `+section+`}`), noEnv)
			if err != nil {
				t.Fatal(err)
			}
			env := func(k string) string {
				if k == "SMTP_PASSWORD" {
					return "hunter2-env"
				}
				return ""
			}
			s, err := cfg.MailSender(env)
			if err != nil || s == nil {
				t.Fatalf("%s: %v", section, err)
			}
		}
	})
	t.Run("Errors", func(t *testing.T) {
		for _, tc := range []struct{ section, want string }{
			{`{"host": "smtp.espoo.fi"}`, "mail.from"},
			{`{"host": "smtp.espoo.fi", "from": "noreply@espoo.fi", "tls": "ssl"}`, "mail.tls"},
			{`{"host": "smtp.espoo.fi", "from": "noreply@espoo.fi", "auth": "cram-md5"}`, "mail.auth"},
			{`{"host": "smtp.espoo.fi", "from": "noreply@espoo.fi", "auth": "plain", "password_env": "P"}`, "mail.username"},
			{`{"host": "smtp.espoo.fi", "from": "noreply@espoo.fi", "auth": "plain", "username": "u"}`, "mail.password_env"},
			{`{"host": "smtp.espoo.fi", "from": "noreply@espoo.fi", "password_env": "P", "password_file": "/f"}`, "mail.password_file"},
			{`{"host": "smtp.espoo.fi", "from": "noreply@espoo.fi", "pasword": "x"}`, "pasword"},
		} {
			_, err := node.LoadConfig(writeConfig(t, `{"mail": `+tc.section+`}`), noEnv)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: %v, want %s", tc.section, err, tc.want)
			}
		}
	})
	t.Run("ErrPasswordMissingAtStart", func(t *testing.T) {
		cfg, err := node.LoadConfig(writeConfig(t, `{"mail": {"host": "smtp.espoo.fi", "from": "noreply@espoo.fi", "auth": "plain", "username": "u", "password_env": "SMTP_PASSWORD"}}`), noEnv)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cfg.MailSender(noEnv); err == nil || !strings.Contains(err.Error(), "SMTP_PASSWORD") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("PasswordNeverInErrors", func(t *testing.T) {
		cfg, err := node.LoadConfig(writeConfig(t, `{"mail": {"host": "smtp.espoo.fi", "from": "bad", "auth": "plain", "username": "u", "password_env": "SMTP_PASSWORD"}}`), noEnv)
		if err == nil {
			t.Fatal("accepted a bad from")
		}
		_ = cfg
		cfg2 := node.DefaultConfig()
		cfg2.Mail = node.MailConfig{Host: "smtp.espoo.fi", From: "x", Auth: "plain", Username: "u", PasswordEnv: "P"}
		_, err = cfg2.MailSender(func(string) string { return "hunter2-secret" })
		if err == nil || strings.Contains(err.Error(), "hunter2-secret") {
			t.Fatalf("err %v", err)
		}
	})
}
