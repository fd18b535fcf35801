package pluginhost

import (
	"fmt"
	"strings"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
)

// maxRoleDescription bounds what a manifest may say about one of its roles in one
// language: a sentence or two on an admin's page.
const maxRoleDescription = 500

// RoleText describes a plugin's role in lang, from the manifest the plugin last
// declared — a role stays granted while its plugin is down, and the admin still needs
// to know what it is. The label falls back to the role's name, the description to the
// manifest's English Description.
func (h *Host) RoleText(role, lang string) (core.RoleText, bool) {
	for _, name := range h.order {
		p := h.plugins[name]
		p.mu.Lock()
		man := p.manifest
		p.mu.Unlock()
		if man == nil {
			continue
		}
		for _, r := range man.Roles {
			if r.Name != role {
				continue
			}
			out := core.RoleText{Plugin: name, Label: r.Name, About: r.Description, Lang: "en"}
			if label, _ := h.pickLabel(r.Labels, lang); label != "" {
				out.Label = label
			}
			if about, tag := h.pickLabel(r.Descriptions, lang); about != "" {
				out.About, out.Lang = about, tag
			}
			return out, true
		}
	}
	return core.RoleText{}, false
}

// checkRoleTexts refuses a role's label or description that is blank or too long;
// a role without any is allowed (its name and English Description are shown).
func checkRoleTexts(r sdk.Role) error {
	for tag, l := range r.Labels {
		if tag == "" || strings.TrimSpace(l) == "" || len(l) > maxLabel {
			return fmt.Errorf("role %q: label %q for %q must be text of at most %d bytes", r.Name, l, tag, maxLabel)
		}
	}
	for tag, d := range r.Descriptions {
		if tag == "" || strings.TrimSpace(d) == "" || len(d) > maxRoleDescription {
			return fmt.Errorf("role %q: the description for %q must be text of at most %d bytes", r.Name, tag, maxRoleDescription)
		}
	}
	return nil
}
