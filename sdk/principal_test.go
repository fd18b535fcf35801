package sdk

import "testing"

// TestPrincipal_OldEnough: a verified age decides whatever the person declares; the
// declaration decides only without one; no minimum lets everyone through.
func TestPrincipal_OldEnough(t *testing.T) {
	verified := func(age int) Principal { return Principal{UserID: "u", AgeVerified: true, VerifiedAge: age} }
	for _, c := range []struct {
		name         string
		p            Principal
		min          int
		confirmed    bool
		ok, verified bool
	}{
		{"no minimum, nothing known", Principal{UserID: "u"}, 0, false, true, false},
		{"no minimum, verified child", verified(10), 0, false, true, true},
		{"verified 15 ticks the box", verified(15), 16, true, false, true},
		{"verified 16 exactly", verified(16), 16, false, true, true},
		{"verified adult, no box", verified(40), 16, false, true, true},
		{"unverified, box ticked", Principal{UserID: "u"}, 16, true, true, false},
		{"unverified, no box", Principal{UserID: "u"}, 16, false, false, false},
		{"anonymous, box ticked", Principal{}, 18, true, true, false},
	} {
		ok, v := c.p.OldEnough(c.min, c.confirmed)
		if ok != c.ok || v != c.verified {
			t.Errorf("%s: OldEnough = %v, %v; want %v, %v", c.name, ok, v, c.ok, c.verified)
		}
	}
}
