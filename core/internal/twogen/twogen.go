// Package twogen is a bounded map for what the node keeps per caller on its hot paths
// (the navigation drawn for a person, a caller's encoding for plugins): two
// generations of at most a given size each. When the current generation is full it
// becomes the previous one and the previous one is dropped, so what is in use stays
// and what is not goes within two turns, with no clock and no list to keep.
package twogen

import "sync"

// DefaultSize is the generation size of the zero Map: a few thousand people signed in
// at once on one node.
const DefaultSize = 4096

// Map holds at most twice its generation size. The zero Map is empty and ready, with
// generations of DefaultSize.
type Map[K comparable, V any] struct {
	size      int // 0 for DefaultSize
	mu        sync.RWMutex
	cur, prev map[K]V
}

// New is an empty Map whose generations hold size entries each (at least one).
func New[K comparable, V any](size int) *Map[K, V] {
	return &Map[K, V]{size: max(1, size)}
}

// Get is k's value. One found only in the previous generation is moved into the
// current one, so that a key in use outlives the next turn.
func (m *Map[K, V]) Get(k K) (V, bool) {
	m.mu.RLock()
	v, ok := m.cur[k]
	inPrev := false
	if !ok {
		v, inPrev = m.prev[k]
	}
	m.mu.RUnlock()
	if inPrev {
		m.mu.Lock()
		if _, ok := m.cur[k]; !ok { // not Put meanwhile: a newer value stays
			m.put(k, v)
		}
		m.mu.Unlock()
	}
	return v, ok || inPrev
}

// Put sets k's value in the current generation.
func (m *Map[K, V]) Put(k K, v V) {
	m.mu.Lock()
	m.put(k, v)
	m.mu.Unlock()
}

// put is Put under m.mu: a new key in a full generation turns the generations first.
func (m *Map[K, V]) put(k K, v V) {
	size := m.size
	if size == 0 {
		size = DefaultSize
	}
	if m.cur == nil {
		m.cur = make(map[K]V)
	} else if _, ok := m.cur[k]; !ok && len(m.cur) >= size {
		m.prev, m.cur = m.cur, make(map[K]V)
	}
	m.cur[k] = v
}
