// Package volunteers is Kvarter's volunteers plugin: residents say once what they can do
// and when, organisations and the city post opportunities with shifts, and the plugin
// matches the two — hard rules first (age, background check, skills, availability,
// overlaps, weekly hours), then a score with reasons in plain words — proposes optimal
// rosters, and runs the sign-up workflow without ever over-filling a shift.
//
// Matching reads a cached, immutable index of every profile. After a write the index is
// rebuilt — inline in a small city, otherwise by one background goroutine while
// requests keep the previous index — so a ranking may lag the store by a few seconds
// (bounded: about two build times, ≈10 s for 100,000 profiles). A stale ranking can never
// over-book anyone: applying, inviting and confirming re-check the hard rules that
// depend on fresh data against the database inside the booking transaction — age,
// background check and required skills always; overlapping commitments on apply, invite
// and confirm; the weekly hours limit (committed hours in the shift's ISO week in the
// city's time zone plus the shift) on invite, accept, confirm and auto-accepted apply;
// availability on invitations only (a volunteer who applies says they are free). The
// shift row, then the volunteer's profile row, is locked while a place is taken, so
// capacity is never exceeded and one person's concurrent bookings cannot both pass the
// weekly limit. Roster proposals book nothing.
//
// The files, the same roles as in every Kvarter plugin: plugin.go (the Plugin and its
// manifest), routes.go (the route table: each handler parses a request, calls one
// Service method and renders), service.go (the Service and what every subject shares)
// with service_<subject>.go per subject (skills, profiles, opportunities, matches,
// rosters, signups, attendance, applications, erasure, parks, reminders), storage.go
// (the SQL both databases share) with storage_postgres.go and storage_sqlite.go (what
// differs), events.go (the payload of every event published and consumed) and notify.go
// (the notifications volunteers receive, worded in locales/notify.<tag>.toml). The Service owns
// policy and transactions. Matching, with its cached index, and rostering are the pure
// packages match and roster.
package volunteers
