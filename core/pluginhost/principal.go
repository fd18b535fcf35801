package pluginhost

import (
	"sync"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/hostside"
)

// toSDKPrincipal converts the core's principal to the plugin contract's.
func toSDKPrincipal(p *core.Principal) sdk.Principal {
	if !p.Authenticated() {
		return sdk.Principal{}
	}
	out := sdk.Principal{
		UserID: p.UserID, DisplayName: p.DisplayName, Locale: p.Locale,
		Roles: p.Roles, Neighbourhoods: p.Neighbourhoods,
		AgeVerified: p.AgeVerified, VerifiedAge: p.VerifiedAge,
	}
	for _, o := range p.Organisations {
		out.Organisations = append(out.Organisations, sdk.OrgMembership{OrganisationID: o.OrganisationID, Role: o.Role, Verified: o.Verified})
	}
	return out
}

// encodedPrincipals keeps each caller's encoding for plugins, so that a busy caller is
// encoded once rather than on every request. The identity service hands out one
// *core.Principal per session for as long as it caches it and never changes one it
// has handed out, so the pointer is a sound key; holding it also keeps its address
// from being reused for someone else. Two generations bound what is held: when the
// current one is full it becomes the previous one, and the previous one is dropped.
type encodedPrincipals struct {
	mu        sync.RWMutex
	cur, prev map[*core.Principal][]byte
}

// encodedPrincipalsMax is the size of one generation.
const encodedPrincipalsMax = 4096

func (c *encodedPrincipals) get(p *core.Principal) ([]byte, error) {
	if !p.Authenticated() {
		return nil, nil
	}
	c.mu.RLock()
	b, ok := c.cur[p]
	c.mu.RUnlock()
	if ok {
		return b, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok = c.prev[p]; !ok {
		var err error
		if b, err = hostside.EncodePrincipal(toSDKPrincipal(p)); err != nil {
			return nil, err
		}
	}
	if c.cur == nil || len(c.cur) >= encodedPrincipalsMax {
		c.prev, c.cur = c.cur, make(map[*core.Principal][]byte)
	}
	c.cur[p] = b
	return b, nil
}
