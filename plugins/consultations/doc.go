// Package consultations is Kvarter's consultations plugin: the city asks residents —
// surveys, polls and idea boards — publishes what they answered, and says what it
// decided and why.
//
// A consultation is prepared by staff as a draft (who may take part, when it opens and
// closes, its questions, a question shown only when an earlier one is answered with a
// given option), published, open between opens_at and closes_at, closed, its results
// published and, last, the city's response written. Its stage is derived from those
// moments and the clock (Consultation.StageAt), so nothing must run for it to open or
// close on time.
//
// One answer per person per consultation: the participants table's primary key holds
// it. Named answers change until the close where the city allows it; anonymous answers
// are sealed (sdk.BallotBox) until the close and final. The close is finalised once,
// under the consultation's row lock: sealed answers opened, shuffled and unlinked, free
// text copied out for redaction. README.md states the open-data formats, the
// participation rules and the anonymity design and its threat model.
//
// Files, as in every plugin: plugin.go (manifest, Configure), routes.go (the route
// table, permissions and roles), handlers.go (the API's handlers), service*.go (the
// rules), storage*.go (the SQL), notify.go, export_user.go, locales.go, pages*.go and
// templates/ (pages), ideas*.go and moderation*.go (the idea board).
package consultations
