package sqlstore

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
)

// Outbox is the relay of one store's outbox, as sdk.Serve drives it. sdk/store
// implements it for every store it opens; host is an sdk.Host, which this package
// cannot name (sdk imports it).
type Outbox interface {
	// Relay delivers the store's events to host until stop is called; stop waits for
	// the relay to end.
	Relay(host any, logger *slog.Logger) (stop func())
	// Flush delivers what is pending now, once.
	Flush(ctx context.Context, host any) error
}

// The outboxes of the stores this process opened, and whether sdk.Serve has started
// relaying them (between Activate and Deactivate).
var outboxes struct {
	mu        sync.Mutex
	all       []Outbox
	stops     map[Outbox]func()
	host      any // while relaying
	logger    *slog.Logger
	publishes []string
	// plugin and kinds are the plugin's name and the notification kinds it declares;
	// "" and nil in a test without sdk.Serve.
	plugin string
	kinds  any
}

// TrackOutbox counts o among the process's outboxes, relaying it at once when the
// plugin is active already.
func TrackOutbox(o Outbox) {
	outboxes.mu.Lock()
	defer outboxes.mu.Unlock()
	outboxes.all = append(outboxes.all, o)
	if outboxes.host != nil {
		outboxes.stops[o] = o.Relay(outboxes.host, outboxes.logger)
	}
}

// HasOutboxes reports whether the process opened a store (with sdk/store).
func HasOutboxes() bool {
	outboxes.mu.Lock()
	defer outboxes.mu.Unlock()
	return len(outboxes.all) > 0
}

// UntrackOutbox stops relaying o, whose store is being closed.
func UntrackOutbox(o Outbox) {
	outboxes.mu.Lock()
	stop := outboxes.stops[o]
	delete(outboxes.stops, o)
	outboxes.all = slices.DeleteFunc(outboxes.all, func(x Outbox) bool { return x == o })
	outboxes.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// StartRelays relays every outbox, present and future, to host until StopRelays.
func StartRelays(host any, logger *slog.Logger) {
	outboxes.mu.Lock()
	defer outboxes.mu.Unlock()
	if outboxes.host != nil {
		return
	}
	outboxes.host, outboxes.logger, outboxes.stops = host, logger, map[Outbox]func(){}
	for _, o := range outboxes.all {
		outboxes.stops[o] = o.Relay(host, logger)
	}
}

// StopRelays stops relaying and then flushes every outbox once, so that events
// committed just before the plugin stops leave with it. ctx bounds the flush.
func StopRelays(ctx context.Context) error {
	outboxes.mu.Lock()
	host, stops, all := outboxes.host, outboxes.stops, slices.Clone(outboxes.all)
	outboxes.host, outboxes.stops = nil, nil
	outboxes.mu.Unlock()
	if host == nil {
		return nil
	}
	for _, stop := range stops {
		stop()
	}
	var errs []error
	for _, o := range all {
		errs = append(errs, o.Flush(ctx, host))
	}
	return errors.Join(errs...)
}

// SetPublishes records the event types the plugin's manifest declares, so that Emit
// refuses another type at once, in the transaction, instead of the host refusing the
// relay's batch for ever after. Nil (a test without sdk.Serve) checks nothing; an
// empty slice refuses every type.
func SetPublishes(types []string) {
	outboxes.mu.Lock()
	defer outboxes.mu.Unlock()
	outboxes.publishes = types
}

// MayPublish reports whether the manifest declares eventType (true when no manifest
// was recorded).
func MayPublish(eventType string) bool {
	outboxes.mu.Lock()
	defer outboxes.mu.Unlock()
	return outboxes.publishes == nil || slices.Contains(outboxes.publishes, eventType)
}

// SetNotifications records the plugin's name and the notification kinds its manifest
// declares (a []sdk.NotificationKind, which this package cannot name), so that
// Tx.Notify refuses what the host would, while the change can still roll back.
func SetNotifications(plugin string, kinds any) {
	outboxes.mu.Lock()
	defer outboxes.mu.Unlock()
	outboxes.plugin, outboxes.kinds = plugin, kinds
}

// Notifications are what SetNotifications recorded.
func Notifications() (plugin string, kinds any) {
	outboxes.mu.Lock()
	defer outboxes.mu.Unlock()
	return outboxes.plugin, outboxes.kinds
}
