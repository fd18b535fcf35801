package pluginhost

import (
	"crypto/sha256"
	"sync"
)

// filterMemo keeps what FilterHTML made of the answers it filtered last, by a hash of
// the plugin, the base path and the answer: a page of forms or a card is mostly the
// same answer again, which the filter would otherwise tokenize each time. The output
// depends on nothing else, so an entry is never stale; the memo is emptied when its
// entries reach maxFilterMemo bytes, and answers over maxFilterMemoEntry are filtered
// without it.
type filterMemo struct {
	mu    sync.Mutex
	m     map[[sha256.Size]byte][]byte
	bytes int
}

const (
	maxFilterMemo      = 8 << 20
	maxFilterMemoEntry = 64 << 10
)

// filter is FilterHTML(src, plugin, base) through the memo. The result is shared:
// read it, never change it.
func (fm *filterMemo) filter(src []byte, plugin, base string) []byte {
	if len(src) > maxFilterMemoEntry {
		return FilterHTML(src, plugin, base)
	}
	h := sha256.New()
	h.Write([]byte(plugin))
	h.Write([]byte{0})
	h.Write([]byte(base))
	h.Write([]byte{0})
	h.Write(src)
	var key [sha256.Size]byte
	h.Sum(key[:0])
	fm.mu.Lock()
	out, ok := fm.m[key]
	fm.mu.Unlock()
	if ok {
		return out
	}
	out = FilterHTML(src, plugin, base)
	fm.mu.Lock()
	if fm.m == nil || fm.bytes+len(out) > maxFilterMemo {
		fm.m, fm.bytes = map[[sha256.Size]byte][]byte{}, 0
	}
	if _, ok := fm.m[key]; !ok {
		fm.m[key] = out
		fm.bytes += len(out)
	}
	fm.mu.Unlock()
	return out
}
