package twogen

import (
	"sync"
	"testing"
)

func TestMap_TwoGenerations(t *testing.T) {
	m := New[int, string](2)
	m.Put(1, "one")
	m.Put(2, "two")
	m.Put(2, "two again") // an existing key does not turn the generations
	if v, ok := m.Get(1); !ok || v != "one" {
		t.Fatalf("Get(1) = %q, %v before any turn", v, ok)
	}
	m.Put(3, "three") // turns: {1, 2} become the previous generation
	if v, ok := m.Get(2); !ok || v != "two again" {
		t.Fatalf("Get(2) = %q, %v from the previous generation", v, ok)
	}
	// 2 was moved into the current generation with 3; 1 was not.
	m.Put(4, "four") // turns: {3, 2} previous, 1 dropped
	if _, ok := m.Get(1); ok {
		t.Fatal("1 outlived two turns without being used")
	}
	for _, k := range []int{2, 3, 4} {
		if _, ok := m.Get(k); !ok {
			t.Errorf("%d was dropped within two turns", k)
		}
	}
	if n := len(m.cur) + len(m.prev); n > 4 {
		t.Errorf("holds %d entries, want at most 4", n)
	}
}

// A key in both generations has the current one's value: a Put after a turn wins over
// what the previous generation still holds. (That a promotion racing with such a Put
// keeps the Put's value is the re-check under the lock in Get; no test times it.)
func TestMap_CurrentGenerationWins(t *testing.T) {
	m := New[string, int](1)
	m.Put("a", 1)
	m.Put("b", 2) // "a" is in the previous generation
	m.mu.RLock()
	_, inPrev := m.prev["a"]
	m.mu.RUnlock()
	if !inPrev {
		t.Fatal("set-up: a is not in the previous generation")
	}
	m.Put("a", 3) // a newer value, current generation
	if v, _ := m.Get("a"); v != 3 {
		t.Errorf("Get(a) = %d, want the newer 3", v)
	}
}

func TestMap_Concurrent(t *testing.T) {
	m := New[int, int](8)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := (g*7 + i) % 40
				m.Put(k, k*k)
				if v, ok := m.Get(k); ok && v != k*k {
					t.Errorf("Get(%d) = %d, want %d", k, v, k*k)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := len(m.cur) + len(m.prev); n > 16 {
		t.Errorf("holds %d entries, want at most 16", n)
	}
}

func TestMap_ZeroValue(t *testing.T) {
	var m Map[int, int]
	for i := range DefaultSize + 1 {
		m.Put(i, i)
	}
	if len(m.prev) != DefaultSize || len(m.cur) != 1 {
		t.Errorf("generations of %d and %d, want %d and 1", len(m.prev), len(m.cur), DefaultSize)
	}
	if v, ok := m.Get(0); !ok || v != 0 {
		t.Errorf("Get(0) = %d, %v", v, ok)
	}
}
