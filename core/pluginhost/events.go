package pluginhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/hostside"
)

// Event delivery: each subscribing plugin has a cursor in the outbox. A pass reads the
// events after the cursor in publish order and hands those of subscribed types to the
// plugin one at a time; the cursor moves only past events the plugin has taken, so
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

// deliverBatch makes one pass; more reports that the batch was full.
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
	last, sinceSave := cursor, 0
	defer func() {
		if last > cursor {
			if aerr := store.AdvanceEventCursor(context.WithoutCancel(ctx), name, last); aerr != nil && err == nil {
				err = aerr
			}
		}
	}()
	for _, e := range events {
		if e.Seq != last+1 && p.h.store.Dialect() == sdk.DialectPostgres {
			if gap.after != last || gap.since.IsZero() {
				*gap = gapState{after: last, since: time.Now()}
			}
			if time.Since(gap.since) < SeqGapGrace {
				return false, errSeqGap
			}
		}
		if slices.Contains(subs, e.Type) {
			dctx, cancel := context.WithTimeout(ctx, DeliveryTimeout)
			err := proc.Deliver(dctx, sdk.Event{ID: e.ID, Type: e.Type, OccurredAt: e.OccurredAt, Payload: json.RawMessage(e.Payload), Source: e.Source})
			cancel()
			if err != nil {
				_ = store.RecordDeliveryFailure(context.WithoutCancel(ctx), name, err.Error())
				return false, fmt.Errorf("deliver event %s (%s) to %s: %w", e.ID, e.Type, name, err)
			}
			if m := p.h.cfg.Metrics; m != nil {
				m.Delivered(name).Inc()
			}
		}
		last = e.Seq
		if sinceSave++; sinceSave == 100 {
			if err := store.AdvanceEventCursor(ctx, name, last); err != nil {
				return false, err
			}
			sinceSave = 0
		}
	}
	return len(events) == EventBatch, nil
}
