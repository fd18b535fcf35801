// Package consultations is Kvarter's consultations plugin: the city asks residents —
// surveys, polls and idea boards — publishes what they answered, and says what it
// decided and why.
//
// Files, as in every plugin: plugin.go (manifest, Configure), routes.go (the route
// table, permissions and roles), handlers.go (the API's handlers), service*.go (the
// rules), storage*.go (the SQL), notify.go, export_user.go, locales.go, pages*.go and
// templates/ (pages), ideas*.go and moderation*.go (the idea board).
package consultations
