package pluginhost

import (
	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/internal/twogen"
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
// from being reused for someone else. Two generations bound what is held (twogen).
type encodedPrincipals struct {
	m twogen.Map[*core.Principal, []byte]
}

func (c *encodedPrincipals) get(p *core.Principal) ([]byte, error) {
	if !p.Authenticated() {
		return nil, nil
	}
	if b, ok := c.m.Get(p); ok {
		return b, nil
	}
	// Two first requests of one caller at once may both encode it: the same bytes.
	b, err := hostside.EncodePrincipal(toSDKPrincipal(p))
	if err != nil {
		return nil, err
	}
	c.m.Put(p, b)
	return b, nil
}
