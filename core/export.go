package core

import "context"

// exportReadme opens every export, so that the file explains itself to the person
// who downloaded it and to whoever they hand it to.
const exportReadme = "This file holds every piece of personal data this Kvarter site keeps about you " +
	"(GDPR articles 15 and 20), as JSON. " +
	"\"user\" is your account; \"roles\", \"role_grants\", \"memberships\" and \"organisations\" are where you belong and what you may do; " +
	"\"sessions\" and \"api_tokens\" are your signed-in devices and tokens (never their secrets); " +
	"\"activity\" is what the audit log records you did or what was done about you; \"uploads\" are files you sent; " +
	"\"notifications\" are what you were told and how you chose to be told; " +
	"\"identities\" are the accounts at the city's identity providers you sign in with (the provider, its id for you, the address it gave). " +
	"\"identity_claims\" is what the city's identity service vouched for: your birth date (the services here see only your age) and, per service, the neighbourhood its record of your address placed you in. " +
	"\"plugins\" has one section per service this city runs (assemblies, budgeting, ...): each section's " +
	"\"fields\" says in plain words what every value of its \"data\" is. " +
	"Of a secret ballot the file says only that you voted, never how: nobody can link your choice to you."

// ExportPerson is the acting person's whole export: the core's data from id, then
// each plugin's section from plugins (nil when the node runs none), under "plugins".
func ExportPerson(ctx context.Context, id IdentityService, plugins PersonalDataExporter) (map[string]any, error) {
	doc, err := id.Export(ctx)
	if err != nil {
		return nil, err
	}
	sections := map[string]any{}
	if plugins != nil {
		parts, err := plugins.ExportUser(ctx, PrincipalFrom(ctx).UserID)
		if err != nil {
			return nil, err
		}
		for _, p := range parts {
			sections[p.Plugin] = map[string]any{"fields": p.Fields, "data": p.Data}
		}
	}
	doc["plugins"] = sections
	doc["readme"] = exportReadme
	return doc, nil
}
