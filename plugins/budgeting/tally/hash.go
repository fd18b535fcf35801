package tally

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
)

// HashBallots returns a hex sha256 over a canonical serialisation of the
// election: kind, budget, projects sorted by id with their costs, and the
// ballots sorted. Within a ballot, projects are sorted by id unless the kind
// is Ordinal (where the order is the vote). Every string and list is length
// prefixed so no two different elections serialise alike. The hash therefore
// does not depend on the order ballots were cast or stored in, so the plugin
// can publish it next to a result and anyone holding the anonymised ballots
// can check them.
func HashBallots(e Election) string {
	kind := e.Kind
	if kind == "" {
		kind = Approval
	}
	var buf []byte
	putStr := func(b []byte, s string) []byte {
		b = binary.AppendUvarint(b, uint64(len(s)))
		return append(b, s...)
	}
	buf = putStr(buf, "kvarter-ballots-v1")
	buf = putStr(buf, string(kind))
	buf = binary.AppendVarint(buf, e.Budget)
	projects := slices.Clone(e.Projects)
	slices.SortFunc(projects, func(a, b Project) int { return strings.Compare(a.ID, b.ID) })
	buf = binary.AppendUvarint(buf, uint64(len(projects)))
	for _, p := range projects {
		buf = putStr(buf, p.ID)
		buf = binary.AppendVarint(buf, p.Cost)
	}
	enc := make([]string, len(e.Ballots))
	type item struct {
		id  string
		pts int64
	}
	for i, b := range e.Ballots {
		items := make([]item, len(b.Projects))
		for j, id := range b.Projects {
			items[j].id = id
			if b.Points != nil {
				items[j].pts = b.Points[j]
			}
		}
		if kind != Ordinal {
			slices.SortFunc(items, func(a, b item) int { return strings.Compare(a.id, b.id) })
		}
		var bb []byte
		bb = binary.AppendUvarint(bb, uint64(len(items)))
		if b.Points != nil {
			bb = append(bb, 1)
		} else {
			bb = append(bb, 0)
		}
		for _, it := range items {
			bb = putStr(bb, it.id)
			if b.Points != nil {
				bb = binary.AppendVarint(bb, it.pts)
			}
		}
		enc[i] = string(bb)
	}
	slices.Sort(enc)
	buf = binary.AppendUvarint(buf, uint64(len(enc)))
	h := sha256.New()
	h.Write(buf)
	var lenBuf []byte
	for _, s := range enc {
		lenBuf = binary.AppendUvarint(lenBuf[:0], uint64(len(s)))
		h.Write(lenBuf)
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}
