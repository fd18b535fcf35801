// Package sdk is the contract between Kvarter and its plugins, and the only package a
// plugin author needs.
//
// A plugin is a separate executable whose main is one line:
//
//	func main() { sdk.Serve(hello.New()) }
//
// The plugin implements [Plugin] and, optionally, the one-method capabilities
// [Migrator], [Activator], [Deactivator], [Healther], [EventHandler] and [Eraser]. The
// core starts the executable, asks for its [Manifest], hands it its settings, its own
// store and a [Host] for callbacks, then sends it the HTTP requests for the routes the manifest
// declares, after authenticating the caller and checking the route's permission.
//
// The transport (hashicorp/go-plugin over gRPC, protocol kvarter.plugin.v1) stays
// behind this package: authors see Go interfaces, structs and a plain [net/http.Handler].
package sdk
