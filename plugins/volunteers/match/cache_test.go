package match

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk/sdktest"
)

// fakeSource is a store of n profiles whose version the test moves; it counts loads.
type fakeSource struct {
	mu      sync.Mutex
	version int64
	n       int
	loads   int
}

func (f *fakeSource) Version(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.version, nil
}

func (f *fakeSource) Profiles(context.Context, time.Time) ([]Profile, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loads++
	out := make([]Profile, f.n)
	for i := range out {
		out[i] = Profile{ID: fmt.Sprintf("v%03d", i)}
	}
	return out, nil
}

// write adds a profile and moves the version, as a store write does.
func (f *fakeSource) write() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	f.version++
}

func (f *fakeSource) loaded() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.loads
}

func get(t *testing.T, c *Cache) *Snapshot {
	t.Helper()
	s, err := c.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCache_Get(t *testing.T) {
	t.Run("FreshIsReused", func(t *testing.T) {
		src := &fakeSource{n: 3}
		c := NewCache(src, CacheConfig{Now: sdktest.NewClock(time.Unix(1e9, 0)).Now})
		defer c.Close()
		a, b := get(t, c), get(t, c)
		if a != b || src.loaded() != 1 || a.Len() != 3 || a.Profile("v001") == nil || a.Profile("nobody") != nil {
			t.Fatalf("snapshots %p %p, %d loads, %d profiles", a, b, src.loaded(), a.Len())
		}
	})
	t.Run("SmallIndexRebuiltInline", func(t *testing.T) {
		src := &fakeSource{n: 3}
		c := NewCache(src, CacheConfig{InlineRebuild: 100, Now: sdktest.NewClock(time.Unix(1e9, 0)).Now})
		defer c.Close()
		get(t, c)
		src.write()
		if s := get(t, c); s.Len() != 4 || s.Version != 1 {
			t.Fatalf("after a write: %d profiles, version %d", s.Len(), s.Version)
		}
	})
	t.Run("LargeIndexStaleWhileRevalidate", func(t *testing.T) {
		src := &fakeSource{n: 3}
		c := NewCache(src, CacheConfig{InlineRebuild: 1, Now: sdktest.NewClock(time.Unix(1e9, 0)).Now})
		defer c.Close()
		first := get(t, c)
		src.write()
		if s := get(t, c); s != first {
			t.Fatalf("right after a write the previous snapshot is served, got %d profiles", s.Len())
		}
		c.Wait()
		if s := get(t, c); s.Len() != 4 {
			t.Fatalf("after the background rebuild: %d profiles", s.Len())
		}
	})
	t.Run("TTLExpires", func(t *testing.T) {
		src := &fakeSource{n: 3}
		clk := sdktest.NewClock(time.Unix(1e9, 0))
		c := NewCache(src, CacheConfig{TTL: time.Minute, Now: clk.Now})
		defer c.Close()
		get(t, c)
		clk.Advance(59 * time.Second)
		get(t, c)
		if src.loaded() != 1 {
			t.Fatalf("%d loads within the TTL", src.loaded())
		}
		clk.Advance(time.Second)
		get(t, c)
		if src.loaded() != 2 {
			t.Fatalf("%d loads once the TTL ran out", src.loaded())
		}
	})
	t.Run("ConcurrentColdGetsBuildOnce", func(t *testing.T) {
		src := &fakeSource{n: 50}
		c := NewCache(src, CacheConfig{Now: sdktest.NewClock(time.Unix(1e9, 0)).Now})
		defer c.Close()
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, err := c.Get(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if src.loaded() != 1 {
			t.Fatalf("%d loads for one version", src.loaded())
		}
	})
	t.Run("WarmBuildsInBackgroundAndCloseStopsIt", func(t *testing.T) {
		src := &fakeSource{n: 3}
		c := NewCache(src, CacheConfig{Now: sdktest.NewClock(time.Unix(1e9, 0)).Now})
		c.Warm()
		c.Wait()
		if src.loaded() != 1 {
			t.Fatalf("%d loads after Warm", src.loaded())
		}
		c.Close()
		closed := NewCache(src, CacheConfig{Now: sdktest.NewClock(time.Unix(1e9, 0)).Now})
		closed.Close()
		closed.Warm()
		closed.Wait()
		if src.loaded() != 1 {
			t.Fatalf("Warm after Close loaded: %d loads", src.loaded())
		}
	})
}
