package match

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Source is what a [Cache] builds its index from: a store of profiles with a version
// that moves whenever any of them changes.
type Source interface {
	// Version changes whenever anything the index is built from changes (a profile, a
	// commitment, recorded attendance), whichever node made the change.
	Version(ctx context.Context) (int64, error)
	// Profiles returns every profile as of now, with its commitments and the recent
	// history (hours, no-shows) counted back from now.
	Profiles(ctx context.Context, now time.Time) ([]Profile, error)
}

// CacheConfig tunes a [Cache]; zero fields take the defaults.
type CacheConfig struct {
	// Location is the city's time zone, handed to [NewIndex].
	Location *time.Location
	// TTL bounds how long an index is used even when the version did not move,
	// because recent hours move with the clock. Default 10 minutes.
	TTL time.Duration
	// InlineRebuild: an out-of-date index of fewer profiles than this is rebuilt by
	// the request that finds it (cheap: about 50 µs a profile); a larger one is rebuilt
	// by one background goroutine while requests keep using the previous index.
	// Default 2,000. A count rather than a measured build time, so the choice does not
	// depend on how loaded the machine happens to be.
	InlineRebuild int
	// Now is the clock; the engine never reads one itself.
	Now func() time.Time
	// Logger reports failed background rebuilds; discarded when nil.
	Logger *slog.Logger
}

// Snapshot is one built index with the profiles it was built from. It is immutable.
type Snapshot struct {
	*Index
	// Version is the source's version read before the profiles were loaded.
	Version int64
	// Built is when the profiles were loaded, by the cache's clock.
	Built    time.Time
	profiles map[string]*Profile
}

// Profile returns the compiled-from profile of a volunteer, nil when the snapshot does
// not hold them.
func (s *Snapshot) Profile(id string) *Profile { return s.profiles[id] }

// Cache keeps the match index over every profile of a [Source] and rebuilds it when it
// is out of date: when the source's version moved or the TTL ran out. A small
// out-of-date index is rebuilt by the request that finds it; a large one by one
// background goroutine while requests keep getting the previous snapshot, so a write
// never makes the next request wait seconds (stale-while-revalidate).
//
// Staleness is bounded: a rebuild reads everything committed before it starts, and the
// first request after a rebuild that missed a write starts the next one, so a snapshot
// reflects every write older than about two build times (≈10 s for 100,000 profiles on
// a 2-vCPU machine). Callers that must not act on stale data (bookings) check against
// their store instead.
type Cache struct {
	src Source
	cfg CacheConfig

	buildMu sync.Mutex // held while building, so one build runs at a time
	mu      sync.Mutex // guards snap and rebuilding
	snap    *Snapshot
	// rebuilding is set while the background goroutine rebuilds.
	rebuilding bool
	// bg is cancelled by Close; bgDone tracks the background rebuild.
	bg       context.Context
	bgCancel context.CancelFunc
	bgDone   sync.WaitGroup
}

// NewCache returns an empty cache over src; the first Get (or Warm) builds.
func NewCache(src Source, cfg CacheConfig) *Cache {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 10 * time.Minute
	}
	if cfg.InlineRebuild <= 0 {
		cfg.InlineRebuild = 2000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	bg, cancel := context.WithCancel(context.Background())
	return &Cache{src: src, cfg: cfg, bg: bg, bgCancel: cancel}
}

// Get returns a snapshot: the cached one while it is fresh, a newly built one when a
// small index is out of date, and the previous one while a large one rebuilds in the
// background.
func (c *Cache) Get(ctx context.Context) (*Snapshot, error) {
	v, err := c.src.Version(ctx)
	if err != nil {
		return nil, err
	}
	now := c.cfg.Now()
	c.mu.Lock()
	snap := c.snap
	if snap != nil && c.fresh(snap, v, now) {
		c.mu.Unlock()
		return snap, nil
	}
	if snap != nil && snap.Len() >= c.cfg.InlineRebuild && c.bg.Err() == nil {
		c.startBackground()
		c.mu.Unlock()
		return snap, nil
	}
	c.mu.Unlock()

	c.buildMu.Lock()
	defer c.buildMu.Unlock()
	c.mu.Lock()
	snap = c.snap
	c.mu.Unlock()
	if snap != nil && c.fresh(snap, v, now) { // built by another request meanwhile
		return snap, nil
	}
	return c.rebuild(ctx)
}

// Warm starts building in the background, so that the first request of a large city
// does not pay the whole build.
func (c *Cache) Warm() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.snap != nil || c.bg.Err() != nil {
		return
	}
	c.startBackground()
}

// Wait waits for a background rebuild, if one runs.
func (c *Cache) Wait() { c.bgDone.Wait() }

// Close stops a background rebuild and waits for it; no rebuild starts afterwards.
func (c *Cache) Close() {
	c.mu.Lock()
	c.bgCancel()
	c.mu.Unlock()
	c.bgDone.Wait()
}

func (c *Cache) fresh(s *Snapshot, v int64, now time.Time) bool {
	return s.Version == v && now.Sub(s.Built) < c.cfg.TTL && !now.Before(s.Built)
}

// startBackground starts the background rebuild unless it runs; the caller holds mu.
func (c *Cache) startBackground() {
	if c.rebuilding {
		return
	}
	c.rebuilding = true
	c.bgDone.Add(1)
	go c.rebuildInBackground()
}

// rebuildInBackground rebuilds once, detached from any request.
func (c *Cache) rebuildInBackground() {
	defer c.bgDone.Done()
	defer func() {
		c.mu.Lock()
		c.rebuilding = false
		c.mu.Unlock()
	}()
	c.buildMu.Lock()
	defer c.buildMu.Unlock()
	if _, err := c.rebuild(c.bg); err != nil && c.bg.Err() == nil {
		c.cfg.Logger.Error("rebuild match index", "error", err)
	}
}

// rebuild loads every profile and builds a new snapshot; the caller holds buildMu. The
// version is read first, so a write racing the load only causes one more rebuild
// later, never a missed one.
func (c *Cache) rebuild(ctx context.Context) (*Snapshot, error) {
	t0 := time.Now()
	v, err := c.src.Version(ctx)
	if err != nil {
		return nil, err
	}
	now := c.cfg.Now()
	profiles, err := c.src.Profiles(ctx, now)
	if err != nil {
		return nil, err
	}
	ix, err := NewIndex(c.cfg.Location, profiles)
	if err != nil {
		return nil, fmt.Errorf("build match index: %w", err)
	}
	snap := &Snapshot{Index: ix, Version: v, Built: now, profiles: make(map[string]*Profile, len(profiles))}
	for i := range profiles {
		snap.profiles[profiles[i].ID] = &profiles[i]
	}
	c.cfg.Logger.Debug("match index built", "profiles", len(profiles), "took", time.Since(t0))
	c.mu.Lock()
	if c.snap == nil || c.snap.Version <= snap.Version {
		c.snap = snap
	}
	c.mu.Unlock()
	return snap, nil
}
