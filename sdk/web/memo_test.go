package web_test

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/web"
)

var memoTemplates = template.Must(template.New("").Parse(`
{{define "greet"}}<h2 title="{{.Name}}">{{.Lang}}: {{.Name}}</h2>{{if .Admin}}<p>admin</p>{{end}}<p>{{.Count}}</p>{{end}}
{{define "any"}}<p>{{.}}</p>{{end}}
{{define "inner"}}<p>{{.V.Name}}</p>{{end}}
{{define "broken"}}<p>{{.Missing}}</p>{{end}}`))

type memoView struct {
	Lang, Name string
	Admin      bool
	Count      int
	Pair       [2]string
}

func direct(t *testing.T, name string, data any) string {
	t.Helper()
	var b bytes.Buffer
	if err := memoTemplates.ExecuteTemplate(&b, name, data); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func memoString(t *testing.T, m *web.Memo, name string, data any) string {
	t.Helper()
	out, err := m.Bytes(memoTemplates, name, data)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// Every answer from the memo is the template's own for that data, whoever asked
// first: people who differ in anything the template reads never share an answer.
func TestMemo_SameAsTemplate(t *testing.T) {
	m := web.NewMemo(0)
	var views []memoView
	for _, lang := range []string{"fi", "sv", "tr"} {
		for _, name := range []string{"Aino", "Ayşe", `<b>"x"&'y'`, ""} {
			for _, admin := range []bool{false, true} {
				views = append(views, memoView{Lang: lang, Name: name, Admin: admin, Count: len(name)})
			}
		}
	}
	for round := range 3 { // the first round fills the memo, the others read it
		for _, v := range views {
			if got, want := memoString(t, m, "greet", v), direct(t, "greet", v); got != want {
				t.Fatalf("round %d, %+v: memo wrote %q, the template %q", round, v, got, want)
			}
		}
	}
}

// Data whose content can change behind an equal key — a pointer, a map, a slice —
// is executed every time, so a changed value is never answered with the old page.
func TestMemo_ChangeableDataIsNeverKept(t *testing.T) {
	m := web.NewMemo(0)
	v := &memoView{Lang: "fi", Name: "Aino"}
	if got := memoString(t, m, "greet", v); !strings.Contains(got, "Aino") {
		t.Fatalf("got %q", got)
	}
	v.Name = "Mikko" // the same pointer, another person
	if got := memoString(t, m, "greet", v); !strings.Contains(got, "Mikko") || strings.Contains(got, "Aino") {
		t.Fatalf("a pointer's changed content answered from the memo: %q", got)
	}
	mp := map[string]string{"k": "first"}
	memoString(t, m, "any", mp)
	mp["k"] = "second"
	if got := memoString(t, m, "any", mp); !strings.Contains(got, "second") {
		t.Fatalf("a map's changed content answered from the memo: %q", got)
	}
	sl := []string{"first"}
	memoString(t, m, "any", sl)
	sl[0] = "second"
	if got := memoString(t, m, "any", sl); !strings.Contains(got, "second") {
		t.Fatalf("a slice's changed content answered from the memo: %q", got)
	}
	type withAny struct{ V any }
	inner := &memoView{Name: "first"}
	memoString(t, m, "inner", withAny{V: inner})
	inner.Name = "second"
	if got := memoString(t, m, "inner", withAny{V: inner}); !strings.Contains(got, "second") {
		t.Fatalf("a pointer behind an interface answered from the memo: %q", got)
	}
	// 0 and -0 are equal floats that print differently.
	memoString(t, m, "any", 0.0)
	if got, want := memoString(t, m, "any", math.Copysign(0, -1)), direct(t, "any", math.Copysign(0, -1)); got != want {
		t.Fatalf("-0 answered as 0: %q, want %q", got, want)
	}
}

// A failing template returns its error and keeps nothing; the memo stays within its
// bound however many one-off answers pass through it, and stays right.
func TestMemo_ErrorsAndBound(t *testing.T) {
	m := web.NewMemo(2048)
	type broken struct{ Name string }
	for range 2 {
		if out, err := m.Bytes(memoTemplates, "broken", broken{"x"}); err == nil {
			t.Fatalf("a failing template answered %q", out)
		}
	}
	for i := range 1000 {
		v := memoView{Lang: "da", Name: fmt.Sprintf("person %d", i), Count: i}
		if got, want := memoString(t, m, "greet", v), direct(t, "greet", v); got != want {
			t.Fatalf("%+v: memo wrote %q, the template %q", v, got, want)
		}
	}
	if kept := m.Size(); kept > 2048 {
		t.Fatalf("the memo keeps %d bytes, over its bound of 2048", kept)
	}
}

// Many requests at once read and fill the memo without a race (go test -race), each
// with its own answer.
func TestMemo_Concurrent(t *testing.T) {
	m := web.NewMemo(4096)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				v := memoView{Lang: "sv", Name: fmt.Sprintf("p%d", (g*i)%37), Count: i % 5}
				out, err := m.Bytes(memoTemplates, "greet", v)
				if err != nil || string(out) != direct(t, "greet", v) {
					t.Errorf("%+v: %q, %v", v, out, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// Memo.Render answers as RenderStatus does: the status, the headers, the meta and the
// content; HEAD gets no body.
func TestMemo_Render(t *testing.T) {
	m := web.NewMemo(0)
	v := memoView{Lang: "en", Name: "Aino"}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		for range 2 {
			rec := httptest.NewRecorder()
			mw := web.NewMetaWriter(rec)
			meta := sdk.PageMeta{Title: "Greeting", Focus: "x"}
			if err := m.Render(mw, httptest.NewRequest(method, "/p/greet", nil), http.StatusUnprocessableEntity, memoTemplates, "greet", v, meta); err != nil {
				t.Fatal(err)
			}
			want := direct(t, "greet", v)
			if method == http.MethodHead {
				want = ""
			}
			if got, _ := web.MetaOf(mw); rec.Code != 422 || rec.Body.String() != want || !reflect.DeepEqual(got, meta) ||
				rec.Header().Get("Content-Type") != "text/html; charset=utf-8" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("%s: %d %q %v, meta %+v", method, rec.Code, rec.Body.String(), rec.Header(), got)
			}
		}
	}
}

// BenchmarkMemo compares a form drawn by html/template with the same form from the
// memo (issue 16).
func BenchmarkMemo(b *testing.B) {
	v := memoView{Lang: "fi", Name: "Aino", Count: 3}
	b.Run("Template", func(b *testing.B) {
		for b.Loop() {
			var buf bytes.Buffer
			_ = memoTemplates.ExecuteTemplate(&buf, "greet", v)
		}
	})
	b.Run("Memo", func(b *testing.B) {
		m := web.NewMemo(0)
		for b.Loop() {
			_, _ = m.Bytes(memoTemplates, "greet", v)
		}
	})
}

// BytesFor keeps what a template drew for data the memo cannot key on by the caller's
// key: equal keys answer the first drawing, other keys draw again, a key that is not
// made of values keeps nothing, and a key never meets equal data given to Bytes.
func TestMemo_BytesFor(t *testing.T) {
	m := web.NewMemo(0)
	type key struct{ ID string }
	ana := &memoView{Name: "Ana"}
	first, err := m.BytesFor(key{"1"}, memoTemplates, "any", ana)
	if err != nil || string(first) != direct(t, "any", ana) {
		t.Fatalf("BytesFor = %q, %v", first, err)
	}
	// The caller promised that key "1" stands for what the template reads: the memo
	// answers the first drawing, although the pointer's value changed since.
	ana.Name = "Bo"
	if again, _ := m.BytesFor(key{"1"}, memoTemplates, "any", ana); string(again) != string(first) {
		t.Errorf("an equal key drew again: %q", again)
	}
	if other, _ := m.BytesFor(key{"2"}, memoTemplates, "any", ana); string(other) != direct(t, "any", ana) {
		t.Errorf("another key answered %q", other)
	}
	// A key holding a slice could change behind the memo's back: never kept.
	size := m.Size()
	if out, _ := m.BytesFor([]string{"1"}, memoTemplates, "any", "x"); string(out) != direct(t, "any", "x") || m.Size() != size {
		t.Errorf("a slice key: %q, size %d → %d", out, size, m.Size())
	}
	// A key equal to data once given to Bytes is another entry.
	if _, err := m.Bytes(memoTemplates, "any", key{"3"}); err != nil {
		t.Fatal(err)
	}
	if out, _ := m.BytesFor(key{"3"}, memoTemplates, "any", "from BytesFor"); string(out) != direct(t, "any", "from BytesFor") {
		t.Errorf("BytesFor met Bytes's entry: %q", out)
	}
}

// BytesForFunc makes its data only when the memo lacks the key, and keeps nothing
// for data that could not be made.
func TestMemo_BytesForFunc(t *testing.T) {
	m := web.NewMemo(0)
	type key struct{ ID string }
	made := 0
	view := func() (any, error) { made++; return &memoView{Name: "Ana"}, nil }
	first, err := m.BytesForFunc(key{"1"}, memoTemplates, "any", view)
	if err != nil || string(first) != direct(t, "any", &memoView{Name: "Ana"}) || made != 1 {
		t.Fatalf("BytesForFunc = %q, %v, data made %d times", first, err, made)
	}
	if again, _ := m.BytesForFunc(key{"1"}, memoTemplates, "any", view); string(again) != string(first) || made != 1 {
		t.Errorf("an equal key: %q, data made %d times, want once", again, made)
	}
	broken := errors.New("the lists could not be read")
	if _, err := m.BytesForFunc(key{"2"}, memoTemplates, "any", func() (any, error) { return nil, broken }); !errors.Is(err, broken) {
		t.Errorf("the data's error: %v", err)
	}
	if out, _ := m.BytesForFunc(key{"2"}, memoTemplates, "any", view); string(out) != string(first) || made != 2 {
		t.Errorf("after a failure the key is drawn again: %q, made %d", out, made)
	}
}
