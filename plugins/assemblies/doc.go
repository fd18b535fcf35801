// Package assemblies is the Kvarter plugin for neighbourhood assemblies: residents and
// organisation delegates meet, table motions (advisory decisions) and vote on them,
// and the city answers every adopted motion in public, against a deadline.
//
// # Layout
//
// plugin.go holds the manifest (routes, permissions, roles, grants, events, settings)
// and the sdk lifecycle; http.go is one route table that feeds the manifest, the
// OpenAPI document (openapi.go) and the handlers, which only parse, call one Service
// method and render. service.go and motions.go hold every rule and object-level
// permission check ("chair of this assembly", "coordinator of its neighbourhood");
// storage.go holds the SQL, one query for both databases, with the row-lock clause as
// the only dialect-specific text (dialect.go). Migrations are embedded per dialect.
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
// insert the voters row, and only if it was new add to the counters or write the named
// ballot. That is one round trip and one commit; the host is not called (the Principal
// names the voter, the frozen electorate decides eligibility), and ballots skip the
// outbox flush, which would otherwise queue every ballot behind a plugin-wide mutex and
// an extra query. SQLite runs the same steps as a transaction of separate statements.
//
// # Secret votes
//
// A secret vote stores who has voted (voters: motion_id, user_id, nothing else) apart
// from what was voted, and what was voted is only counters: secret_tally holds, per
// motion, shard and option, a number. A ballot adds one to its option in a shard
// chosen at random (64 shards on PostgreSQL, so concurrent ballots rarely wait on one
// another's row locks; one on SQLite, which serialises writers anyway). There is no ballot row at all, so there is no key, no insertion
// order and no timestamp that could be lined up with the voters table; the SQLite
// tables are WITHOUT ROWID, so not even a hidden rowid counts insertions. The ballot
// statement rewrites all three counters of its shard, so on PostgreSQL the counter
// rows' transaction ids (xmin) do not show which option moved. Counts are not shown
// while a vote is open, and the public timeline records the open and the close but no
// ballot, because watching totals tick next to a list of voters would link them too.
// A secret ballot cannot be changed, whatever the assembly's rule: finding the old
// choice would need exactly the link that secrecy removes.
//
// The tally is reproducible from the stored ballots: the close sums the counters (or,
// for named votes, counts the named_ballots rows) and refuses to decide if the sum is
// not the number of voters. The Popolo export recounts the same way rather than
// copying the stored result.
//
// What this does not cover: someone with file-level access to the database can still
// read history the engine keeps below the tables — SQLite's write-ahead log before a
// checkpoint, PostgreSQL's dead row versions before vacuum, server logs. Those are
// operator-level access, outside what the plugin's tables can promise.
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
// through a local outbox so that no event is lost when the host is briefly away.
//
// # Personal data
//
// On core.user.deleted the plugin drops the person's memberships, attendance and
// sponsorships, blanks their name on motions and timelines, and re-keys their vote
// rows to a random pseudonym, so the ballots they cast keep counting without them.
package assemblies
