// Package hello is the reference plugin for plugin authors, laid out as every Kvarter
// plugin is:
//
//   - plugin.go: the manifest, Configure and the optional capabilities;
//   - routes.go: the route table, and handlers that only parse, call the service and
//     return its answer (the SDK encodes it, and answers errors in the error format);
//   - service.go: the rules, in domain terms, with no HTTP and no SQL; a method that
//     changes data opens the transaction (store.DB.InTx) and emits its event in it
//     (Tx.Emit), so the SDK delivers the event once the change commits, and never
//     without it;
//   - storage.go: the SQL, one query for both databases, times as Unix microseconds;
//   - events.go: the events it publishes and consumes, with their payloads;
//   - pages.go: its pages — a form that follows Post/Redirect/Get and a card for the
//     home page — rendered with html/template, in the viewer's language;
//   - locales.go: its text in every language of a Kvarter city.
//
// Its routes cover each permission kind, a list with a cursor and a raw answer. Its
// GET /api/v1/hello/calls route counts handled requests and lists received events, so
// host tests can prove whether a request or an event reached the plugin.
package hello
