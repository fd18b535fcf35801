// Package protocol holds the constants both ends of the plugin connection must agree on.
package protocol

import plugin "github.com/hashicorp/go-plugin"

// Handshake is checked by go-plugin before anything else: a binary started with the
// wrong cookie refuses to run, and a protocol version mismatch fails the launch.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "KVARTER_PLUGIN",
	MagicCookieValue: "9f1c2e7a-kvarter-plugin-protocol-v1",
}

// PluginName is the key of the single plugin each process serves in the go-plugin set.
const PluginName = "kvarter"

// MaxMessageBytes bounds one gRPC message in either direction. The host enforces a
// smaller request body limit; this only has to be larger than any sane response.
const MaxMessageBytes = 32 << 20

// LogTimeFormat is the timestamp layout go-plugin's host side parses in the JSON log
// lines a plugin writes to stderr.
const LogTimeFormat = "2006-01-02T15:04:05.000000Z07:00"
