package consultations

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
)

// TestTally_ScanMatchesJSON counts the same answers twice — read in place by addJSON
// and decoded by encoding/json — and wants the same results, for answers of every
// question type with text full of quotes, escapes and non-ASCII, and for content in
// shapes the scanner leaves to encoding/json.
func TestTally_ScanMatchesJSON(t *testing.T) {
	c := &Consultation{ID: "c"}
	qs, err := defineQuestions(survey().Questions)
	if err != nil {
		t.Fatal(err)
	}
	c.Questions = qs
	rng := rand.New(rand.NewPCG(1, 2))
	texts := []string{"", "plain", `quote " and \ backslash`, "tab\tnewline\n", "Ääkköset ja emoji 🚲", "</script>&"}
	var contents [][]byte
	for range 2000 {
		perm := rng.Perm(3)
		content, err := json.Marshal(answersOf(c, rng.IntN(2), rng.IntN(6), perm[:rng.IntN(3)], perm[:rng.IntN(4)], texts[rng.IntN(len(texts))]))
		if err != nil {
			t.Fatal(err)
		}
		contents = append(contents, content)
	}
	contents = append(contents,
		[]byte(` { "`+qs[1].ID+`" : { "value" : -3 } } `), // spaces, and a value out of range
		[]byte(`{"\u0071":{"text":"x"}}`),                 // an escaped key: encoding/json reads it
		[]byte(`{"`+qs[0].ID+`":{"options":["`+qs[0].Options[0].ID+`"],"extra":1}}`),
		[]byte(`{}`))
	scanned, decoded := newTally(c), newTally(c)
	for _, content := range contents {
		if err := scanned.addContent(content); err != nil {
			t.Fatalf("%s: %v", content, err)
		}
		var a Answers
		if err := json.Unmarshal(content, &a); err != nil {
			t.Fatal(err)
		}
		decoded.add(a)
	}
	got, want := scanned.results(nil), decoded.results(nil)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("scanned:\n%+v\ndecoded:\n%+v", got, want)
	}
	if err := newTally(c).addContent([]byte(`{"a":`)); err == nil {
		t.Error("a broken answer was counted")
	}
}
