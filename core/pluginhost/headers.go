package pluginhost

import (
	"net/http"
	"strings"
)

// Request headers that carry identity or credentials. The core has already
// authenticated the caller and passes the Principal; a plugin must never see, or be
// fooled by, what a client claims about itself.
var identityHeaders = map[string]bool{
	"Cookie":                         true,
	"Authorization":                  true,
	"Proxy-Authorization":            true,
	"X-Csrf-Token":                   true,
	"Remote-User":                    true,
	"Remote-Email":                   true,
	"Remote-Groups":                  true,
	"Forwarded-User":                 true,
	"X-Forwarded-User":               true,
	"X-Forwarded-Email":              true,
	"X-Forwarded-Groups":             true,
	"X-Forwarded-Preferred-Username": true,
	"X-Remote-User":                  true,
	"X-Email":                        true,
	"X-Request-Id":                   true, // replaced with the core's own
}

// Prefixes of identity-looking header names (canonical form).
var identityPrefixes = []string{"X-Kvarter-", "X-User", "X-Principal", "X-Auth", "X-Remote-", "X-Forwarded-User", "X-Role", "X-Roles", "X-Session"}

// Hop-by-hop headers belong to one connection and are never forwarded.
var hopHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Te": true, "Trailer": true,
	"Transfer-Encoding": true, "Upgrade": true, "Proxy-Connection": true,
}

// isIdentityHeader reports whether a request header must not reach a plugin. The name
// is compared in canonical case with underscores read as hyphens: CGI, PHP and several
// proxies and frameworks turn X_Forwarded_User into the same variable as
// X-Forwarded-User, so a plugin (or whatever sits behind it) could take one for the
// other.
func isIdentityHeader(name string) bool {
	name = http.CanonicalHeaderKey(strings.ReplaceAll(name, "_", "-"))
	if identityHeaders[name] || hopHeaders[name] {
		return true
	}
	for _, p := range identityPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// responseHeaderAllowed reports whether a plugin's response header may reach the
// client: plugins may not set cookies on the core's origin (they could overwrite the
// session), nor connection-level headers.
func responseHeaderAllowed(name string) bool {
	name = http.CanonicalHeaderKey(name)
	return name != "Set-Cookie" && !hopHeaders[name] && name != "Content-Length"
}
