package volunteers

import (
	"context"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// Reminders: the day before a shift, every volunteer holding a place on it is reminded
// once. The plugin's scheduler looks every reminderEvery; each reminder is claimed — a
// row in shift_reminders under a primary key — in the transaction that writes it into
// the outbox, so it is sent once whichever process looks, however often, and across
// restarts: two processes on one PostgreSQL race for the row, and the loser's insert
// finds it taken once the winner commits.

const (
	// reminderHour is the local hour, on the day before a shift, from which its
	// reminder is due. A volunteer who takes a place later, before the shift starts, is
	// reminded at the next look.
	reminderHour = 9
	// reminderEvery is how often the scheduler looks for reminders due.
	reminderEvery = time.Minute
	// reminderHorizon bounds how far ahead a look reads shifts: a reminder is due at
	// most 48 hours before its shift (09:00 the day before a shift at midnight, with an
	// hour to spare for a change of daylight saving time).
	reminderHorizon = 48 * time.Hour
	// reminderBatch is how many reminders one query reads; a look reads again until
	// none is due.
	reminderBatch = 200
)

// reminderDue is when the reminder of a shift starting at start is due: reminderHour on
// the local day before, in loc. time.Date keeps the wall clock across a change of
// daylight saving time.
func reminderDue(start time.Time, loc *time.Location) time.Time {
	y, m, d := start.In(loc).Date()
	return time.Date(y, m, d-1, reminderHour, 0, 0, 0, loc)
}

// SendReminders sends every reminder due now that no process has sent, and returns how
// many this call sent.
func (s *Service) SendReminders(ctx context.Context) (int, error) {
	now := s.clock()
	sent := 0
	for {
		due, err := s.st.remindersPending(ctx, now, now.Add(reminderHorizon), reminderBatch)
		if err != nil {
			return sent, err
		}
		claimed := 0
		for _, r := range due {
			// Pending reminders come in start order, and a later start is never due
			// earlier: the first one not due ends the look.
			if now.Before(reminderDue(r.Start, s.cfg.Location)) {
				return sent, nil
			}
			ok, err := s.sendReminder(ctx, r, now)
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
			}
			claimed++
		}
		if len(due) < reminderBatch || claimed == 0 {
			return sent, nil
		}
	}
}

// sendReminder claims one reminder and writes it in one transaction; false when
// another process sent it first or the volunteer no longer holds the place.
func (s *Service) sendReminder(ctx context.Context, r pendingReminder, now time.Time) (bool, error) {
	var sent bool
	err := s.st.db.InTx(ctx, func(tx *store.Tx) error {
		sent = false
		ok, err := s.st.claimReminder(ctx, tx, r, now)
		if err != nil || !ok {
			return err
		}
		o, err := s.st.opportunity(ctx, tx, r.OpportunityID)
		if err != nil {
			return err
		}
		sh, err := findShift(o, r.ShiftID)
		if err != nil {
			return err
		}
		sent = true
		return s.tell(ctx, tx, NotifyReminder, o, sh, sdk.Notification{Recipients: []string{r.VolunteerID}}, nil)
	})
	return sent, err
}

// runReminders sends the reminders due every reminderEvery until ctx ends.
func (s *Service) runReminders(ctx context.Context) {
	tick := time.NewTicker(reminderEvery)
	defer tick.Stop()
	for {
		if _, err := s.SendReminders(ctx); err != nil && ctx.Err() == nil {
			s.logger.ErrorContext(ctx, "volunteers: reminders", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// StartReminders runs the reminder scheduler in the background until StopReminders.
func (s *Service) StartReminders() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s.reminders = func() { cancel(); <-done }
	go func() {
		defer close(done)
		s.runReminders(ctx)
	}()
}

// StopReminders stops the scheduler and waits for a look under way; a reminder it was
// writing is either committed or left for the next start.
func (s *Service) StopReminders() {
	if s.reminders != nil {
		s.reminders()
		s.reminders = nil
	}
}
