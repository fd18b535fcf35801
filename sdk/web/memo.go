package web

import (
	"bytes"
	"html/template"
	"io"
	"net/http"
	"reflect"
	"sync"

	"github.com/kvarter/kvarter/sdk"
)

// Most page views draw the same markup again: the same empty form in the same
// language, for everyone who opens it. Executing html/template for it was most of what a
// page cost a plugin beyond a JSON answer (issue 16: hello's form took 16.6 µs of
// reflection and escaping for 3.2 KB that only change with the language), so a Memo
// keeps what a template wrote for the data it was given and writes it again for equal
// data.
//
// The memo is keyed by the template, its name and the data itself, never by who asks:
// two requests share an entry only when everything the template reads is equal, and
// then the template would have written the same bytes for both. That holds for data
// made of values alone — strings, whole numbers, booleans, and structs and arrays of
// them — which == compares by content; data that holds a pointer, map, slice, interface
// or function could change behind an equal key, and a float's == holds for 0 and -0,
// which print differently, so such data is executed each time and never kept. A
// memoised template's functions, and the methods of its data, must depend on their
// arguments only, as the kit's do (Funcs): one that read the clock, the database or the
// request would have its first answer repeated.

// DefaultMemoBytes bounds a Memo made with NewMemo(0).
const DefaultMemoBytes = 4 << 20

// Memo keeps templates' output by template, name and data. The zero value is not
// usable: make one with NewMemo, once per program, beside the templates.
type Memo struct {
	max int

	mu   sync.RWMutex
	m    map[memoKey][]byte
	size int
}

type memoKey struct {
	t    *template.Template
	name string
	data any
}

// NewMemo makes a memo that keeps at most maxBytes of output (DefaultMemoBytes when
// maxBytes <= 0); when a new answer would pass the bound it starts again empty, so a
// stream of one-off answers (forms sent back with what someone typed) costs at most a
// re-execution of the common ones.
func NewMemo(maxBytes int) *Memo {
	if maxBytes <= 0 {
		maxBytes = DefaultMemoBytes
	}
	return &Memo{max: maxBytes, m: map[memoKey][]byte{}}
}

// Bytes is what the template name of t writes for data. The slice may be shared with
// other callers: it must not be changed. An error is the template's, and nothing is
// kept for it.
func (m *Memo) Bytes(t *template.Template, name string, data any) ([]byte, error) {
	if !memoisable(reflect.TypeOf(data)) {
		return execute(t, name, data)
	}
	return m.keep(memoKey{t, name, data}, func() ([]byte, error) { return execute(t, name, data) })
}

// keep is the memo's answer for key, drawn by draw when it has none.
func (m *Memo) keep(key memoKey, draw func() ([]byte, error)) ([]byte, error) {
	m.mu.RLock()
	out, ok := m.m[key]
	m.mu.RUnlock()
	if ok {
		return out, nil
	}
	out, err := draw()
	if err != nil {
		return nil, err
	}
	if len(out) > m.max/16 {
		return out, nil // a page this large would crowd out the rest
	}
	m.mu.Lock()
	if m.size+len(out) > m.max {
		clear(m.m)
		m.size = 0
	}
	if _, ok := m.m[key]; !ok {
		m.m[key] = out
		m.size += len(out)
	}
	m.mu.Unlock()
	return out, nil
}

// BytesFor is Bytes keyed by key instead of by data, for data the memo cannot key on
// (it holds a pointer, a slice or a time) although the caller knows what of it the
// template reads: key must stand for all of that — two calls with equal keys must
// draw equal bytes — and be made of values alone, as Bytes requires of data (a key
// that is not is refused, and data is then executed each time). Keys live beside
// Bytes's data keys without meeting them: a key has its own type.
func (m *Memo) BytesFor(key any, t *template.Template, name string, data any) ([]byte, error) {
	if !memoisable(reflect.TypeOf(key)) {
		return execute(t, name, data)
	}
	return m.keep(memoKey{t, name, explicitKey{key}}, func() ([]byte, error) { return execute(t, name, data) })
}

// BytesForFunc is BytesFor for data that costs more to make than its key: data is
// called only when the memo has no answer for key, and its error is answered as is.
func (m *Memo) BytesForFunc(key any, t *template.Template, name string, data func() (any, error)) ([]byte, error) {
	draw := func() ([]byte, error) {
		d, err := data()
		if err != nil {
			return nil, err
		}
		return execute(t, name, d)
	}
	if !memoisable(reflect.TypeOf(key)) {
		return draw()
	}
	return m.keep(memoKey{t, name, explicitKey{key}}, draw)
}

// explicitKey wraps a BytesFor key, so that it never equals a Bytes call's data.
type explicitKey struct{ key any }

// Size is how many bytes of output the memo keeps.
func (m *Memo) Size() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.size
}

// Execute writes to w what the template name of t writes for data, from the memo when
// it was drawn with equal data before. Like Render, it writes nothing when the template
// fails.
func (m *Memo) Execute(w io.Writer, t *template.Template, name string, data any) error {
	out, err := m.Bytes(t, name, data)
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// WriteContent answers content, drawn before (by BytesFor, say), as the page's, with
// meta handed to the host: what RenderStatus does after executing its template.
func WriteContent(w http.ResponseWriter, r *http.Request, status int, content []byte, meta sdk.PageMeta) error {
	return writePage(w, r, status, content, meta)
}

// Render is web.RenderStatus with the content drawn through the memo.
func (m *Memo) Render(w http.ResponseWriter, r *http.Request, status int, t *template.Template, name string, data any, meta sdk.PageMeta) error {
	out, err := m.Bytes(t, name, data)
	if err != nil {
		return err
	}
	return writePage(w, r, status, out, meta)
}

func execute(t *template.Template, name string, data any) ([]byte, error) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// memoisableTypes caches memoisable's answer per type.
var memoisableTypes sync.Map // reflect.Type → bool

// memoisable reports whether values of typ are compared by content alone: no pointer,
// map, slice, interface, function, channel or float anywhere inside. A nil type (nil
// data) is.
func memoisable(typ reflect.Type) bool {
	if typ == nil {
		return true
	}
	if v, ok := memoisableTypes.Load(typ); ok {
		return v.(bool)
	}
	ok := valueOnly(typ)
	memoisableTypes.Store(typ, ok)
	return ok
}

func valueOnly(typ reflect.Type) bool {
	switch typ.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	case reflect.Array:
		return valueOnly(typ.Elem())
	case reflect.Struct:
		for i := range typ.NumField() {
			if !valueOnly(typ.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}
