package store

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// eventIDs makes the outbox's row ids: UUIDv7 (RFC 9562) whose text sorts in the order
// this process made them, so that ORDER BY id is the order of Emit calls. Within a
// millisecond the 12-bit rand_a field counts up from a random start (RFC 9562 §6.2,
// method 3); when it runs out the id borrows the next millisecond.
var eventIDs struct {
	mu  sync.Mutex
	ms  int64
	seq uint16
}

func newEventID(now time.Time) string {
	var b [16]byte
	if _, err := rand.Read(b[6:]); err != nil {
		panic("store: no randomness: " + err.Error()) // crypto/rand never fails on supported platforms
	}
	ms := now.UnixMilli()
	eventIDs.mu.Lock()
	switch {
	case ms > eventIDs.ms:
		// A random start in the lower half leaves room to count up.
		eventIDs.ms, eventIDs.seq = ms, uint16(b[6]&0x07)<<8|uint16(b[7])
	case eventIDs.seq < 0xfff:
		eventIDs.seq++
	default:
		eventIDs.ms, eventIDs.seq = eventIDs.ms+1, 0
	}
	ms, seq := eventIDs.ms, eventIDs.seq
	eventIDs.mu.Unlock()

	b[0], b[1], b[2], b[3], b[4], b[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	b[6], b[7] = 0x70|byte(seq>>8), byte(seq)
	b[8] = 0x80 | b[8]&0x3f
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
