package web

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"reflect"
	"time"

	"github.com/kvarter/kvarter/sdk/i18n"
)

// Catalog is the kit's own messages (the components' words, "web.*" ids) in every
// language: a plugin's bundle includes it (NewBundle does that).
//
//go:embed locales/*.toml
var Catalog embed.FS

//go:embed templates/*.tmpl
var components embed.FS

// NewBundle is the bundle of a plugin's catalogs together with the kit's Catalog.
func NewBundle(catalogs ...fs.FS) (*i18n.Bundle, error) {
	return i18n.NewBundle(append([]fs.FS{Catalog}, catalogs...)...)
}

// Options are what a plugin's templates need of the city.
type Options struct {
	// Zone is the city's time zone, in which dates and times are shown; nil is UTC.
	Zone *time.Location
	// Default is the city's default language, which a language the catalogs lack
	// falls back to before English.
	Default string
	// Funcs are the plugin's own template functions; they may not reuse a name of
	// the kit's (Funcs).
	Funcs template.FuncMap
}

// Templates are a plugin's page templates together with the kit's components, parsed
// once for each language of the bundle (and the pseudo-locale), each with Funcs bound
// to that language, so rendering a page clones nothing.
type Templates struct {
	bundle *i18n.Bundle
	opts   Options
	byLang map[string]*template.Template
	// locs are the localizers of the bundle's languages, made once: a page asks for
	// its language's several times.
	locs map[string]*i18n.Localizer
}

// NewTemplates parses the files of fsys matched by patterns (fs.Glob patterns) with the
// kit's components, for every language of b. Template names beginning "kv-" are the
// kit's.
func NewTemplates(b *i18n.Bundle, opts Options, fsys fs.FS, patterns ...string) (*Templates, error) {
	if !b.HasMessage(i18n.Fallback, "web.error_summary.title") {
		return nil, fmt.Errorf("web: the bundle lacks the kit's catalog: make it with web.NewBundle")
	}
	ts := &Templates{bundle: b, opts: opts, byLang: map[string]*template.Template{}, locs: map[string]*i18n.Localizer{}}
	for _, lang := range append(b.Languages(), i18n.Pseudo) {
		loc := b.Localizer(lang, opts.Default).In(opts.Zone)
		ts.locs[lang] = loc
		funcs := Funcs(loc)
		for name, fn := range opts.Funcs {
			if _, taken := funcs[name]; taken {
				return nil, fmt.Errorf("web: template function %q is the kit's", name)
			}
			funcs[name] = fn
		}
		t, err := template.New("").Funcs(funcs).ParseFS(components, "templates/*.tmpl")
		if err != nil {
			return nil, fmt.Errorf("web: the kit's components: %w", err)
		}
		if len(patterns) > 0 {
			if t, err = t.ParseFS(fsys, patterns...); err != nil {
				return nil, fmt.Errorf("web: %w", err)
			}
		}
		ts.byLang[lang] = t
	}
	return ts, nil
}

// MustTemplates is NewTemplates for templates embedded in the program, where an error
// is a bug.
func MustTemplates(b *i18n.Bundle, opts Options, fsys fs.FS, patterns ...string) *Templates {
	ts, err := NewTemplates(b, opts, fsys, patterns...)
	if err != nil {
		panic(err)
	}
	return ts
}

// For are the templates in lang (the viewer's negotiated language); a language the
// catalogs lack falls back to Options.Default, then English, as the Localizer does.
func (ts *Templates) For(lang string) *template.Template {
	return ts.byLang[ts.Localizer(lang).Lang()]
}

// Localizer is the localizer the templates in lang use, for the text a handler writes
// itself (a page title in PageMeta, an announcement).
func (ts *Templates) Localizer(lang string) *i18n.Localizer {
	if loc, ok := ts.locs[lang]; ok {
		return loc
	}
	return ts.bundle.Localizer(lang, ts.opts.Default).In(ts.opts.Zone)
}

// Funcs are the template functions bound to loc:
//
//	t id [key value]…         a message (T), data as key/value pairs or one map
//	n id count [key value]…   a plural message (N), {{.Count}} written as a number
//	lang                      the language the page is written in, for lang attributes
//	date, time, datetime t    a time.Time in the city's zone
//	number n                  a whole number with the language's grouping
//	money minor currency      an amount of minor units ("TRY", "EUR")
//	field form name [key value]…   a form field's view, for kv-field, kv-textarea,
//	                          kv-select, kv-choices, kv-date, kv-time
//	summary form              the error summary's view, for kv-error-summary
//	pagination, table, tag, card, alert, unavailable [key value]…
//	                          the views of the other components
func Funcs(loc *i18n.Localizer) template.FuncMap {
	return template.FuncMap{
		"t": func(id string, kv ...any) (string, error) {
			data, err := pairs(kv)
			if err != nil {
				return "", fmt.Errorf("t %q: %w", id, err)
			}
			return loc.T(id, data), nil
		},
		"n": func(id string, count any, kv ...any) (string, error) {
			c, ok := toInt(count)
			if !ok {
				return "", fmt.Errorf("n %q: the count %v is not a whole number", id, count)
			}
			data, err := pairs(kv)
			if err != nil {
				return "", fmt.Errorf("n %q: %w", id, err)
			}
			return loc.N(id, int(c), data), nil
		},
		"lang":     loc.Lang,
		"date":     loc.Date,
		"time":     loc.Time,
		"datetime": loc.DateTime,
		"number": func(n any) (string, error) {
			v, ok := toInt(n)
			if !ok {
				return "", fmt.Errorf("number: %v is not a whole number", n)
			}
			return loc.Number(v), nil
		},
		"money": func(minor any, currency string) (string, error) {
			v, ok := toInt(minor)
			if !ok {
				return "", fmt.Errorf("money: %v is not a whole number of minor units", minor)
			}
			return loc.Money(v, currency), nil
		},
		"field":       func(form *Form, name string, kv ...any) (Field, error) { return newField(loc, form, name, kv) },
		"summary":     func(form *Form) Summary { return newSummary(loc, form) },
		"pagination":  func(kv ...any) (Pagination, error) { return build[Pagination](kv) },
		"table":       func(kv ...any) (Table, error) { return build[Table](kv) },
		"tag":         func(kv ...any) (Tag, error) { return build[Tag](kv) },
		"card":        func(kv ...any) (Card, error) { return build[Card](kv) },
		"alert":       func(kv ...any) (Alert, error) { return build[Alert](kv) },
		"unavailable": func(kv ...any) (Unavailable, error) { return build[Unavailable](kv) },
	}
}

// pairs turns template arguments into message data: key/value pairs, or one map.
func pairs(kv []any) (map[string]any, error) {
	if len(kv) == 1 {
		if m, ok := kv[0].(map[string]any); ok {
			return m, nil
		}
	}
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("data must be key/value pairs, got %d values", len(kv))
	}
	if len(kv) == 0 {
		return nil, nil
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// toInt is a whole number of any integer type, as templates pass fields of any.
func toInt(v any) (int64, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		return int64(u), u <= 1<<63-1
	}
	return 0, false
}
