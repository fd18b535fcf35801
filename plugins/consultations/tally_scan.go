package consultations

import "encoding/json"

// Counting 100,000 answers in well under a second leaves no room for encoding/json,
// which builds a map and a value per answer and spends two thirds of the time doing
// so. Answers are stored in one shape (json.Marshal of Answers), so addJSON reads that
// shape in place and counts as it reads, allocating nothing; anything it does not
// expect — an escape in a key, a field it does not know — sends that answer through
// encoding/json instead, so it is never wrong, only slower.

// addContent counts one stored answer.
func (t *tally) addContent(b []byte) error {
	if t.addJSON(b) {
		return nil
	}
	var a Answers
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	t.add(a)
	return nil
}

// scanner reads one stored answer.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\n' || s.b[s.i] == '\t' || s.b[s.i] == '\r') {
		s.i++
	}
}

// eat consumes c after white space.
func (s *scanner) eat(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// plainString reads a string without escapes and returns its bytes.
func (s *scanner) plainString() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			s.i++
			return s.b[start : s.i-1], true
		case '\\':
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// skipString skips a string, escapes and all.
func (s *scanner) skipString() bool {
	if !s.eat('"') {
		return false
	}
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			s.i++
			return true
		case '\\':
			s.i++
		}
		s.i++
	}
	return false
}

// integer reads a whole number.
func (s *scanner) integer() (int, bool) {
	s.ws()
	neg := s.i < len(s.b) && s.b[s.i] == '-'
	if neg {
		s.i++
	}
	start, n := s.i, 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' && s.i-start < 9 {
		n = n*10 + int(s.b[s.i]-'0')
		s.i++
	}
	if s.i == start || s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// addJSON counts one answer read in place; false when the answer is not in the
// stored shape, having counted nothing.
func (t *tally) addJSON(b []byte) bool {
	// A first pass checks the shape, a second counts, so that an answer that turns out
	// odd halfway is not half counted.
	if !t.scan(b, false) {
		return false
	}
	t.scan(b, true)
	return true
}

func (t *tally) scan(b []byte, count bool) bool {
	s := &scanner{b: b}
	if !s.eat('{') {
		return false
	}
	if count {
		t.answers++
	}
	if s.eat('}') {
		return s.end()
	}
	for {
		key, ok := s.plainString()
		if !ok || !s.eat(':') || !s.eat('{') {
			return false
		}
		i, known := t.byID[string(key)]
		if known && count {
			t.qs[i].answered++
		}
		if !s.eat('}') {
			for {
				field, ok := s.plainString()
				if !ok || !s.eat(':') {
					return false
				}
				switch string(field) {
				case "options":
					if !s.options(t, i, known && count) {
						return false
					}
				case "value":
					v, ok := s.integer()
					if !ok {
						return false
					}
					if known && count {
						t.scale(i, v)
					}
				case "text":
					if !s.skipString() {
						return false
					}
				default:
					return false
				}
				if s.eat('}') {
					break
				}
				if !s.eat(',') {
					return false
				}
			}
		}
		if s.eat('}') {
			return s.end()
		}
		if !s.eat(',') {
			return false
		}
	}
}

// end reports whether nothing but white space follows.
func (s *scanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// options reads an array of option IDs and, with count, counts them for question i.
func (s *scanner) options(t *tally, i int, count bool) bool {
	if !s.eat('[') {
		return false
	}
	if s.eat(']') {
		return true
	}
	var q *Question
	var qt *questionTally
	if count {
		q, qt = &t.c.Questions[i], &t.qs[i]
	}
	for k := 0; ; k++ {
		id, ok := s.plainString()
		if !ok {
			return false
		}
		if count && q.Kind != QuestionScale && q.Kind != QuestionText {
			if j, ok := qt.option[string(id)]; ok {
				qt.counts[j]++
				if q.Kind == QuestionRanking {
					qt.borda[j] += len(q.Options) - 1 - k
				}
			}
		}
		if s.eat(']') {
			return true
		}
		if !s.eat(',') {
			return false
		}
	}
}

// scale counts value v for question i when it is a scale's point.
func (t *tally) scale(i, v int) {
	q, qt := &t.c.Questions[i], &t.qs[i]
	if q.Kind == QuestionScale && v >= q.ScaleMin && v <= q.ScaleMax {
		qt.counts[v-q.ScaleMin]++
		qt.sum += v
	}
}
