package pluginhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/hostside"
)

// Event delivery: each subscribing plugin has a cursor in the outbox. A pass reads the
// events after the cursor in publish order and hands those of subscribed types to the
// plugin in batches; the cursor moves only past events the plugin has taken, so
// every event is delivered at least once, in order, across restarts of the host and of
// the plugin. On PostgreSQL a pass runs under an advisory lock on the subscriber, so
// among several nodes exactly one delivers a subscriber's stream at a time.

// errSeqGap says a pass stopped at a hole in the outbox sequence that may yet fill.
var errSeqGap = errors.New("waiting for an earlier event to commit")

// notifyPublish wakes every subscriber on this node after a local publish, so that
// events reach plugins on the same node without waiting for the poll.
func (h *Host) notifyPublish() {
	for _, p := range h.plugins {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// gapState remembers since when a pass has been waiting at a hole after seq.
type gapState struct {
	after int64
	since time.Time
}

func (p *plugin) deliverEvents(ctx context.Context) {
	var gap gapState
	failures := 0
	delay := EventPoll
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		case <-timer.C:
		}
		delay = EventPoll
		if proc, subs := p.subscriber(); proc != nil && len(subs) > 0 {
			var more bool
			ran, err := p.h.store.TryEventLock(ctx, p.spec.Name, func() error {
				var err error
				more, err = p.deliverBatch(ctx, proc, subs, &gap)
				return err
			})
			switch {
			case ctx.Err() != nil:
				return
			case errors.Is(err, errSeqGap):
				delay = 20 * time.Millisecond
			case err != nil:
				failures++
				delay = DeliveryDelay(failures)
				p.h.logger.Warn("event delivery failed", "plugin", p.spec.Name, "err", err, "retry_in", delay)
			case !ran:
				// Another node delivers this stream.
			default:
				failures = 0
				if more {
					delay = 0
				}
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(delay)
	}
}

// subscriber returns the running process and its subscriptions, or nil.
func (p *plugin) subscriber() (*hostside.Process, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.manifest == nil || p.proc == nil || (p.state != "active" && p.state != "degraded") {
		return nil, nil
	}
	return p.proc, p.manifest.Subscribes
}

// deliverBatch makes one pass; more reports that there may be events left to deliver
// now (the batch read was full, or the plugin stopped early for lack of time).
//
// The events of subscribed types go to the plugin in batches (DeliveryBatch events or
// DeliveryBatchBytes of payload at most). The cursor moves past what the plugin
// handled, and past events of other types between them; at the first event it did not
// handle the pass ends, so that event is delivered again first and none after it
// reaches the plugin before it does.
func (p *plugin) deliverBatch(ctx context.Context, proc *hostside.Process, subs []string, gap *gapState) (more bool, err error) {
	store, name := p.h.store, p.spec.Name
	cursor, err := store.EventCursor(ctx, name)
	if err != nil {
		return false, err
	}
	events, err := store.EventsAfter(ctx, cursor, EventBatch)
	if err != nil {
		return false, err
	}
	b := deliveryBatch{p: p, proc: proc, saved: cursor}
	prev := cursor // the seq of the event before e
	for _, e := range events {
		if e.Seq != prev+1 && store.Dialect() == sdk.DialectPostgres {
			if gap.after != prev || gap.since.IsZero() {
				*gap = gapState{after: prev, since: time.Now()}
			}
			if time.Since(gap.since) < SeqGapGrace {
				if done, err := b.flush(ctx, prev); err != nil || !done {
					return !done, err
				}
				return false, errSeqGap
			}
		}
		if slices.Contains(subs, e.Type) {
			if b.full(len(e.Payload)) {
				if done, err := b.flush(ctx, prev); err != nil || !done {
					return !done, err
				}
			}
			b.add(e, prev)
		}
		prev = e.Seq
	}
	if done, err := b.flush(ctx, prev); err != nil || !done {
		return !done, err
	}
	return len(events) == EventBatch, nil
}

// deliveryBatch gathers the events of one HandleEvents call and moves the subscriber's
// cursor after it.
type deliveryBatch struct {
	p     *plugin
	proc  *hostside.Process
	saved int64 // the cursor as stored

	events []sdk.Event
	before []int64 // before[i]: where the cursor may go once events[:i] are handled
	bytes  int
}

// full says whether an event with a payload of n bytes no longer fits.
func (b *deliveryBatch) full(n int) bool {
	return len(b.events) > 0 && (len(b.events) == DeliveryBatch || b.bytes+n > DeliveryBatchBytes)
}

// add appends e, the event after seq prev.
func (b *deliveryBatch) add(e core.OutboxEvent, prev int64) {
	b.events = append(b.events, sdk.Event{ID: e.ID, Type: e.Type, OccurredAt: e.OccurredAt, Payload: json.RawMessage(e.Payload), Source: e.Source})
	b.before = append(b.before, prev)
	b.bytes += len(e.Payload)
}

// flush hands the gathered events to the plugin and moves the cursor past those it
// handled, or to through when it handled all (through is the last event read, which
// may be of a type the plugin does not take). done is false when the plugin stopped
// early; err is set when an event failed.
func (b *deliveryBatch) flush(ctx context.Context, through int64) (done bool, err error) {
	name := b.p.spec.Name
	handled := len(b.events)
	if handled > 0 {
		dctx, cancel := context.WithTimeout(ctx, DeliveryTimeout)
		handled, err = b.proc.DeliverAll(dctx, b.events)
		cancel()
		if m := b.p.h.cfg.Metrics; m != nil && handled > 0 {
			m.Delivered(name).Add(float64(handled))
		}
	}
	done = handled == len(b.events)
	to := through
	if !done {
		to = b.before[handled]
	}
	b.events, b.before, b.bytes = b.events[:0], b.before[:0], 0
	// The cursor is saved even when the call failed: what was handled stays handled.
	if to > b.saved {
		if aerr := b.p.h.store.AdvanceEventCursor(context.WithoutCancel(ctx), name, to); aerr != nil {
			return false, aerr
		}
		b.saved = to
	}
	if err != nil {
		_ = b.p.h.store.RecordDeliveryFailure(context.WithoutCancel(ctx), name, err.Error())
		return false, fmt.Errorf("deliver events to %s: %w", name, err)
	}
	return done, nil
}
