// Package budgeting is Kvarter's participatory-budgeting plugin: a neighbourhood's
// cycle from ideas to implementation, with ballots a city can trust and results anyone
// can recompute.
//
// # Cycles
//
// A cycle belongs to one neighbourhood and holds one budget in integer minor units of
// an ISO 4217 currency. A city-wide budget with one pot per district is modelled as one
// cycle per district, each naming a grouping cycle as parent_id: every rule (who may
// vote, the ballot, the tally) stays per neighbourhood, and GET /cycles?parent_id=
// lists the group. Phases run ideas → support (optional) → review → voting → results →
// implementation, only forward, moved by an officer or by a background tick when a
// scheduled start passes (the clock is injected). Leaving the support phase keeps the
// support_top_n most supported ideas (and any level with the last one kept).
//
// # Ballot secrecy
//
// Who voted and what was voted live in two tables, voters(cycle_id, user_id) and,
// while voting is open, sealed_ballots(id, cycle_id, token_hash, sealed). The voters
// primary key is what enforces one ballot per person per cycle, so it holds under any
// concurrency and across nodes. Casting writes both rows in one transaction — needed
// so that a refused second ballot leaves nothing behind — so whoever reads the store,
// its hidden columns (xmin, ctid), a dump or the WAL can pair the two rows. What they
// pair the voter with is sealed (DESIGN.md §13, sdk.BallotBox): the ballot, padded to
// one size per cycle (sealedSize), encrypted in this process to the cycle's public key,
// whose private key only the core derives, from a key file in no database.
//
// When voting closes, in the transaction that moves the phase on, the host opens the
// sealed ballots, they are shuffled (crypto/rand) and written to ballots(id, cycle_id,
// content) with random UUIDv4 IDs (the SQLite table is WITHOUT ROWID, so its storage
// order is by random ID too), and the sealed rows are deleted: every ballot row of a
// cycle then carries the same transaction and says nothing of who cast it or when.
// The tally, exports and hash are computed from these rows, and exports number voters
// 1..n in ID order. docs/security.md states the threat model. Ballots may be
// replaceable (a setting): the voter then gets a random token whose hash alone is
// stored with the sealed ballot, so only the voter can find it to replace it. Paper
// ballots entered by officers are written in the clear, marked paper, and have no
// voter rows (the polling station checked the voters).
//
// # Results
//
// Tallies use package tally (shared with `kvarter pb`). An officer first previews the
// tally in private (several rules side by side, where they differ, how satisfied the
// voters would be; result_previews, which nothing public reads) and then publishes one
// candidate exactly as previewed. Ordinal ballots are counted by Borda or by approvals,
// as the cycle's ballot.count names. A published result records the
// rule and its parameters, the hash of the ballots (tally.HashBallots), per-project
// votes, cost, leftover, the MES endowment and every tie the chain could not break,
// with a plain-language explanation and, per project, why it was or was not funded
// (explanations: for MES who paid and, for a project it did not buy, where its
// supporters' shares went), computed once when the tally runs; a published result
// never changes, so Results keeps it once read. export.pb writes the anonymised ballots so that
// `kvarter pb tally export.pb` reproduces the result and HashBallots of the file equals
// the published hash, and passes the official Pabulib checker's rules (pabulib.Check).
// Simulation cycles accept a .pb import instead of votes and are listed apart from
// real budgets.
//
// # Photos and documents
//
// A proposal carries photos (JPEG, PNG) and PDF documents; a report on a funded
// project carries photos of the work (service_attachments.go). The host receives every
// file (DESIGN.md §10): it checks it by its content, strips a photo's metadata, keeps
// it, and puts its upload id in the form field's place, dropping whatever a client
// wrote there; so an id the plugin keeps is one the host gave for that request, and
// the plugin stores only the id with what the file shows: a photo's text alternative
// (required) or a document's title. The author adds files until review, reviewers at
// any time. Erasing a person removes the rows of the files the core deletes with them.
//
// Minimum age: when min_age is set, a voter whose age the city's identity provider
// vouched for (the host passes the age from a verified birth date, never the date) is
// let through or refused by it; a voter without a verified age confirms theirs with
// age_confirmed on the ballot. A city that needs proof of every voter's age signs
// residents in through a provider that gives birth dates (docs/operators.md).
package budgeting
