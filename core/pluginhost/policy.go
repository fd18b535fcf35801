package pluginhost

import (
	"strconv"
	"strings"
	"time"
)

// Supervision policy. Named here so that operators can read it in one place and tests
// can call the functions below directly.
const (
	// RestartDelayMin is the wait before the first restart after a crash; each further
	// consecutive crash doubles it, up to RestartDelayMax. With three crashes allowed, a
	// crashed plugin serves again well within 5 s.
	RestartDelayMin = 100 * time.Millisecond
	RestartDelayMax = 2 * time.Second
	// StableAfter is how long a plugin must stay up for the restart delay to start
	// again from RestartDelayMin.
	StableAfter = 30 * time.Second
	// CrashBudget crashes within CrashWindow mark a plugin failed until an operator
	// enables it again.
	CrashBudget = 3
	CrashWindow = time.Hour
	// RetryAfterDown and RetryAfterFailed are the Retry-After seconds of the 503 a
	// plugin's routes answer while it restarts, or after it failed.
	RetryAfterDown   = 1
	RetryAfterFailed = 60
	// DefaultHealthInterval is how often an active plugin's health is checked, and
	// HealthTimeout bounds one check.
	DefaultHealthInterval = 5 * time.Second
	HealthTimeout         = 2 * time.Second
	// DefaultRequestTimeout bounds one forwarded request.
	DefaultRequestTimeout = 10 * time.Second
	// DefaultCommandPoll is how often a node looks for operators' commands given
	// through another node.
	DefaultCommandPoll = time.Second
	// DefaultDrainTimeout bounds the wait for requests in flight when a plugin stops.
	DefaultDrainTimeout = 5 * time.Second
	// LifecycleTimeout bounds Describe, Configure, Activate and Deactivate;
	// MigrateTimeout bounds Migrate.
	LifecycleTimeout = 10 * time.Second
	MigrateTimeout   = 5 * time.Minute
)

// Event delivery policy.
const (
	// EventBatch is how many outbox rows one delivery pass reads.
	EventBatch = 500
	// EventPoll is how often a subscriber's stream is checked for new events when
	// nothing on this node announced one (events of other nodes, of the core).
	EventPoll = 250 * time.Millisecond
	// DeliveryRetryMin and DeliveryRetryMax bound the backoff after a failed delivery.
	DeliveryRetryMin = 200 * time.Millisecond
	DeliveryRetryMax = 30 * time.Second
	// DeliveryBatch and DeliveryBatchBytes bound one call handing events to a
	// subscriber: at most this many events, and no more payload than this unless a
	// single event is larger.
	DeliveryBatch      = 500
	DeliveryBatchBytes = 4 << 20
	// DeliveryTimeout bounds one call handing events to a subscriber. The SDK starts
	// no event of a batch after half of it, so a slow handler still makes progress.
	DeliveryTimeout = 10 * time.Second
	// SeqGapGrace is how long a hole in the outbox sequence is waited for on
	// PostgreSQL, where a transaction holding a lower seq may commit after a higher one;
	// a hole older than this was a rolled-back insert.
	SeqGapGrace = 2 * time.Second
)

// RestartDelay is the wait before restarting a plugin after its n-th consecutive crash
// (n >= 1): RestartDelayMin doubled n-1 times, at most RestartDelayMax.
func RestartDelay(n int) time.Duration {
	return backoff(n, RestartDelayMin, RestartDelayMax)
}

// DeliveryDelay is the wait before redelivering after the n-th consecutive failure.
func DeliveryDelay(n int) time.Duration {
	return backoff(n, DeliveryRetryMin, DeliveryRetryMax)
}

func backoff(n int, lo, hi time.Duration) time.Duration {
	if n < 1 {
		n = 1
	}
	d := lo
	for i := 1; i < n; i++ {
		d *= 2
		if d >= hi {
			return hi
		}
	}
	return min(d, hi)
}

// RecordCrash adds a crash at now to the recent crashes, forgets those older than
// CrashWindow, and reports whether the budget is spent (the plugin must be failed).
func RecordCrash(crashes []time.Time, now time.Time) (recent []time.Time, spent bool) {
	for _, c := range crashes {
		if now.Sub(c) < CrashWindow {
			recent = append(recent, c)
		}
	}
	recent = append(recent, now)
	return recent, len(recent) >= CrashBudget
}

// ValidStatus reports whether a plugin's response status may be passed on.
func ValidStatus(code int) bool { return code >= 100 && code <= 599 }

// VersionAtLeast reports whether version v is at least min, comparing dotted numeric
// parts ("0.10.1" > "0.9"). Pre-release and build suffixes are ignored; a version that
// does not start with a number (a development build) satisfies every minimum.
func VersionAtLeast(v, min string) bool {
	if min == "" {
		return true
	}
	a, ok := versionParts(v)
	if !ok {
		return true
	}
	b, ok := versionParts(min)
	if !ok {
		return false
	}
	for i := range max(len(a), len(b)) {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return x > y
		}
	}
	return true
}

func versionParts(v string) ([]int, bool) {
	v = strings.TrimPrefix(v, "v")
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		v = v[:i]
	}
	var out []int
	for _, s := range strings.Split(v, ".") {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, false
		}
		out = append(out, n)
	}
	return out, true
}
