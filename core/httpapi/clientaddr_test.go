package httpapi

import (
	"net/netip"
	"testing"
)

func TestProxyTrust_ClientAddr(t *testing.T) {
	trusted, err := ParseTrustedProxies([]string{"10.0.0.10", "192.168.0.0/16", "fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	behind := proxyTrust{Header: "X-Forwarded-For", Trusted: trusted}
	tests := []struct {
		name   string
		trust  proxyTrust
		peer   string
		header []string
		want   string
	}{
		{"NoProxyConfigured", proxyTrust{}, "203.0.113.1", []string{"198.51.100.1"}, "203.0.113.1"},
		{"HeaderWithoutTrustedProxies", proxyTrust{Header: "X-Forwarded-For"}, "203.0.113.1", []string{"198.51.100.1"}, "203.0.113.1"},
		{"UntrustedPeer", behind, "203.0.113.1", []string{"198.51.100.1"}, "203.0.113.1"},
		{"TrustedPeerNoHeader", behind, "10.0.0.10", nil, "10.0.0.10"},
		{"RightMost", behind, "10.0.0.10", []string{"198.51.100.1"}, "198.51.100.1"},
		{"ForgedLeftIgnored", behind, "10.0.0.10", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"ChainOfTrusted", behind, "10.0.0.10", []string{"1.2.3.4, 198.51.100.1, 192.168.3.4"}, "198.51.100.1"},
		{"SeveralHeaderLines", behind, "10.0.0.10", []string{"1.2.3.4", "198.51.100.1, 192.168.3.4"}, "198.51.100.1"},
		{"AllTrusted", behind, "10.0.0.10", []string{"192.168.1.1, 192.168.3.4"}, "192.168.1.1"},
		{"GarbageStopsAtLastTrusted", behind, "10.0.0.10", []string{"198.51.100.1, not-an-ip, 192.168.3.4"}, "192.168.3.4"},
		{"GarbageRightMost", behind, "10.0.0.10", []string{"unknown"}, "10.0.0.10"},
		{"WithPort", behind, "10.0.0.10", []string{"198.51.100.1:4711"}, "198.51.100.1"},
		{"IPv6", behind, "fd00::1", []string{"2001:db8::7, fd12::3"}, "2001:db8::7"},
		{"IPv4MappedPeer", behind, "::ffff:10.0.0.10", []string{"198.51.100.1"}, "198.51.100.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.trust.clientAddr(netip.MustParseAddr(tc.peer), tc.header)
			if got.String() != tc.want {
				t.Fatalf("clientAddr(%s, %q) = %s, want %s", tc.peer, tc.header, got, tc.want)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	for _, bad := range []string{"10.0.0", "10.0.0.0/33", "proxy.example", ""} {
		if _, err := ParseTrustedProxies([]string{bad}); err == nil {
			t.Errorf("ParseTrustedProxies(%q) accepted it", bad)
		}
	}
}
