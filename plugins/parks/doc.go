// Package parks is the Kvarter plugin through which civic groups book areas
// of public parks for open events, park managers approve them, and the
// public sees what is on.
//
// Parks belong to a neighbourhood and contain a tree of bookable areas
// (the whole park ⊃ the meadow ⊃ the stage). Representatives of verified
// organisations — and, where the city allows, verified residents — request
// an area for a time; managers approve or reject in start-time order.
// Approved bookings and closures never overlap: each occupies rows in
// booking_occupancy for its area and the area's ancestors, and the
// database refuses overlapping rows (an exclusion constraint on
// PostgreSQL with btree_gist; otherwise a per-park row lock, or SQLite's
// single writer, around an explicit check). The booking arithmetic —
// opening hours, rules, availability, series, equipment — lives in the
// pure package schedule.
//
// The plugin publishes parks.booking.requested|approved|rejected|cancelled
// and erases personal data from bookings on core.user.deleted. It tells the
// group that asked what became of its request, and the people who follow a
// park of its public events (notify.go); requesting a booking follows the
// park.
//
// Files: plugin.go (the Plugin, its manifest and settings), routes.go (the
// route table and its handlers), service.go and service_*.go (the workflow,
// one file per subject), events.go (the event payloads, documented in
// README.md), notify.go (notifications and following, worded in
// locales/notify.<tag>.toml), storage.go with storage_postgres.go and storage_sqlite.go
// (SQL; what only one dialect says sits behind dialectSQL). The SDK
// carries the rest: the route table gives the manifest, the mux and the
// OpenAPI document; events leave through its transactional outbox.
package parks
