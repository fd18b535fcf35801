package pluginhost

import (
	"testing"

	"github.com/kvarter/kvarter/core"
)

// TestToSDKPrincipal_Age: a verified age crosses to plugins as the age and its flag;
// a person without one reaches them without either, never as an age of 0.
func TestToSDKPrincipal_Age(t *testing.T) {
	p := toSDKPrincipal(&core.Principal{UserID: "u-1", AgeVerified: true, VerifiedAge: 17})
	if !p.AgeVerified || p.VerifiedAge != 17 {
		t.Errorf("verified: %+v", p)
	}
	if p := toSDKPrincipal(&core.Principal{UserID: "u-2"}); p.AgeVerified {
		t.Errorf("unverified: %+v", p)
	}
}
