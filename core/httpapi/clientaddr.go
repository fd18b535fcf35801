package httpapi

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// proxyTrust says whose word the server takes for the client's address. Only a peer in
// Trusted may name the client in Header; everyone else is the client themselves.
type proxyTrust struct {
	Header  string
	Trusted []netip.Prefix
}

// ParseTrustedProxies reads trusted_proxies: single addresses ("10.0.0.10") or CIDR
// ranges ("10.0.0.0/8", "fd00::/8").
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("trusted_proxies: %q is not an address or CIDR range", s)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted_proxies: %q is not an address or CIDR range", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func (t proxyTrust) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr finds the client's address from the peer's address and the values of the
// proxy header. Each proxy appends the address it received the request from, so the
// header is read from the right: past the proxies we trust, the first address we do
// not trust is the client. Everything left of it was written by the client (or by
// proxies only the client chose) and is never believed. A peer we do not trust is the
// client, whatever it sends; so is every request when no proxy is trusted.
func (t proxyTrust) clientAddr(peer netip.Addr, header []string) netip.Addr {
	peer = peer.Unmap()
	if t.Header == "" || !t.trusts(peer) {
		return peer
	}
	client := peer
	for i := len(header) - 1; i >= 0; i-- {
		hops := strings.Split(header[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			a, ok := parseHop(hops[j])
			if !ok {
				// Not an address: whoever wrote it is not a proxy we trust, so the
				// nearest hop we can vouch for stands for the client.
				return client
			}
			client = a
			if !t.trusts(a) {
				return a
			}
		}
	}
	// Every hop is a trusted proxy: the left-most is as close to the client as we get.
	return client
}

// parseHop reads one hop of X-Forwarded-For: an address, optionally with a port.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

// peerAddr is the address of the connection's other end.
func peerAddr(c *fiber.Ctx) netip.Addr {
	a, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	return a.Unmap()
}

// clientIP is the client's address as throttles, sessions and audit entries record it.
func (s *Server) clientIP(c *fiber.Ctx) string {
	var header []string
	if s.trust.Header != "" {
		for _, v := range c.Request().Header.PeekAll(s.trust.Header) {
			header = append(header, string(v))
		}
	}
	return s.trust.clientAddr(peerAddr(c), header).String()
}

// fromTrustedProxy reports whether the request came straight from a trusted proxy.
func (s *Server) fromTrustedProxy(c *fiber.Ctx) bool {
	return len(s.trust.Trusted) > 0 && s.trust.trusts(peerAddr(c))
}
