// Package assemblies is the Kvarter plugin for neighbourhood assemblies: residents and
// organisation delegates meet, table motions (advisory decisions) and vote on them,
// and the city answers every adopted motion in public, against a deadline.
//
// # Layout
//
// The same files for the same roles as every Kvarter plugin: plugin.go holds the
// manifest (permissions, roles, grants, settings) and the sdk lifecycle; routes.go is
// the route table (sdk.Get, sdk.List, sdk.Post, …), which is the manifest's routes,
// the handler and the OpenAPI document at once; its handlers only read the request,
// call one Service method and return. service.go holds the Service and what its
// subjects share (permission checks, ids, audit), and service_<subject>.go every rule
// and object-level permission check ("chair of this assembly", "coordinator of its
// neighbourhood") per subject: assemblies, members, meetings, motions, votes, the
// city's answer, the exports, erasure, the edits of what was created (service_edits.go)
// and the lists the pages read (service_lists.go). domain.go holds the domain types and the
// pure decision rule; events.go the event types and their payloads. storage.go holds
// the SQL, one query for both databases; what only one of them speaks (the row lock,
// JSON arrays, the one-statement ballot) is in storage_postgres.go and
// storage_sqlite.go, behind one interface, so the service never asks which database
// it runs on. Migrations are embedded per dialect.
//
// Every list is a page of sdk.Page in a stable keyset order: assemblies and motions
// oldest first (created_at, id), meetings earliest first (starts_at, id), members in
// the order they applied (applied_at, user_id). Times are stored as BIGINT Unix
// microseconds, UTC.
//
// # One ballot per member
//
// The voters table's primary key (motion_id, user_id) decides "already voted", so 50
// concurrent ballots from one member record exactly one, on one node or many. The
// electorate is copied into its own table when the vote opens: ballots are checked
// against it, so someone who joins later cannot vote and someone who leaves keeps the
// vote they had. A ballot and the close take the motion's row lock on PostgreSQL
// (shared and exclusive); on SQLite every write transaction is IMMEDIATE. Either way a
// ballot is counted by the close or refused as late, never lost.
//
// On PostgreSQL a ballot is one prepared statement in its own implicit transaction
// (storage_postgres.go): lock the motion row, look the voter up in the electorate,
// insert the voters row, and only if it was new (or changing is allowed) write the
// sealed or named ballot. That is one round trip and one commit; the host is not
// called (the Principal names the voter, the frozen electorate decides eligibility;
// the vote's sealing key is asked for once per motion and process), and a ballot
// publishes no event. SQLite runs the same steps as a transaction of separate
// statements.
//
// # Secret votes
//
// The voter mark and the ballot are written in one transaction, so whoever reads the
// store — its tables, PostgreSQL's hidden xmin and ctid, a pg_dump, SQLite's WAL
// frames — can pair them. So a secret ballot is sealed (DESIGN.md §13, sdk.BallotBox):
// the choice, padded to one size for all three options, is encrypted in this process
// to the vote's public key, and sealed_ballots holds only the voter and that
// ciphertext. The private key is derived by the core from its master key file, which
// is in no database. A secret ballot can be changed before the close, where the
// assembly allows it, by replacing the sealed row.
//
// At the close, in the close's transaction, the host opens the sealed ballots in
// batches, they are shuffled (crypto/rand), written to secret_ballots as bare choices
// (no voter, no time), and the sealed rows are deleted. All rows of secret_ballots of
// a vote carry the same transaction id and lie in a random order, so nothing pairs
// them with the voters. Counts are not shown while a vote is open, and the public
// timeline records the open and the close but no ballot. docs/security.md states the
// threat model: only someone holding both the database (or a copy) and the key file
// while the vote is open can link a voter to a choice.
//
// The tally is reproducible from the stored ballots: the close counts secret_ballots
// (plus the counters of secret_tally, where votes opened before sealing kept them) or,
// for named votes, named_ballots, and refuses to decide if the sum is not the number
// of voters. The Popolo export recounts the same way rather than copying the stored
// result.
//
// # Results
//
// Closing a vote applies the quorum to the turnout, abstentions included
// (turnout × 100 ≥ quorum_percent × electorate, or turnout ≥ quorum_absolute), then
// the majority: simple is yes > no; absolute is yes > half of all ballots cast,
// abstentions included; two_thirds is yes ≥ two thirds of yes + no, with at least one
// yes. See [Decide].
//
// # The city's answer
//
// An adopted motion is submitted to the city at once, due after the
// answer_deadline_days setting (30 by default). Holders of assemblies.motion.answer in
// the city domain (the city_responder role, or a city admin) acknowledge it, answer it
// (accepted, partly_accepted or declined, always with reasoning) and mark it
// implemented. Unanswered motions past their deadline show as overdue on the motion,
// in the motion list (?overdue=true) and as a count on the assembly; an answer that came
// late stays marked. Every step is on the public timeline and published as an event,
// written by the SDK's outbox (store.Tx.Emit) in the transaction of the step, so that
// no event is lost when the host or the plugin stops before delivery.
//
// # Personal data
//
// On core.user.deleted the plugin drops the person's memberships, attendance and
// sponsorships, blanks their name on motions and timelines, and re-keys their vote
// rows to a random pseudonym, so the ballots they cast keep counting without them.
package assemblies
