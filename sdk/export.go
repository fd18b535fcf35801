package sdk

import "context"

// Exporter is implemented by plugins that keep personal data: when a person asks for
// everything Kvarter holds about them (GDPR art. 15 and 20), the host asks every
// enabled plugin through ExportUser and puts each answer in its own section of one
// JSON document. A plugin that keeps personal data implements both Exporter and
// [Eraser].
type Exporter interface {
	ExportUser(ctx context.Context, userID string) (PersonalData, error)
}

// PersonalData is a plugin's section of a person's export.
type PersonalData struct {
	// Data is what the plugin holds about the person, by kind of record ("bookings",
	// "motions"), each a value that marshals to JSON. What is kept secret even from
	// the plugin's operators stays so: of a secret ballot the export says only that
	// the person voted, never how.
	Data map[string]any
	// Fields describes every key of Data, and the keys of its records as dotted paths
	// ("bookings.contact_phone"), in plain words, as a README would; a person reading
	// the file learns what each value is without knowing the plugin.
	Fields map[string]string
}

// DataUse is one kind of personal data a plugin keeps, as the city's privacy page
// explains it to residents: what it is, why the plugin keeps it and for how long, each
// in every language the plugin speaks (BCP 47 tag → text).
type DataUse struct {
	// ID names the kind ("bookings.contact"); unique within the plugin.
	ID   string
	What map[string]string
	Why  map[string]string
	Kept map[string]string
}
