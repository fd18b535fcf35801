// Package i18n is Kvarter's localizer: message catalogs in go-i18n v2's TOML format,
// embedded by the core and by every plugin, a pure function that picks a request's
// language, and dates, times, numbers and money written as each language writes them.
//
// A catalog is one file per language, locales/<tag>.toml, each message a table named by
// its id, which says where the message is used:
//
//	["parks.booking.title"]
//	description = "Heading of the page that books a park"
//	other = "Book a park"
//
//	["parks.booking.count"]
//	one = "{{.Count}} booking"
//	other = "{{.Count}} bookings"
//
// A Localizer looks a message up in the requested language, then the city's default,
// then English, so a missing translation never shows an empty string; it is logged once
// instead. Tests make the same gap fail (i18ntest.Strict) and check whole catalogs
// (i18ntest.CheckCatalog).
package i18n

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Dir is the folder of an fs.FS that holds the catalogs: <tag>.toml per language and,
// when a catalog grows large, more files per language named <part>.<tag>.toml
// (admin.fi.toml), so each area of a program keeps its strings together.
const Dir = "locales"

// Fallback is the last language of every fallback chain: every catalog has it.
const Fallback = "en"

// Required are the languages every catalog of the core and of a built-in plugin speaks
// in full (CheckCatalog holds them to it).
var Required = []string{"en", "fi", "sv", "da", "tr"}

// Pseudo is the pseudo-locale: English with accents, 40% longer and in brackets, built
// from the English catalog, so a test that renders with it shows text that is not from
// the catalog, is glued together from pieces, or is cut short. Negotiate never picks it.
const Pseudo = "en-XA"

// Bundle holds the messages of one or more catalogs (a plugin's own and the web kit's,
// say) for every language they have. It is safe for concurrent use.
type Bundle struct {
	b     *goi18n.Bundle
	langs []string                     // the catalogs' languages, sorted, without Pseudo
	loc   map[string]*goi18n.Localizer // one per language, Pseudo included
	ids   map[string]map[string]bool   // language → ids it has

	missing  atomic.Pointer[MissingFunc]
	reported sync.Map // lang+"\x00"+id → struct{}: what the default reporter has logged
	plain    sync.Map // plainKey → string: messages without data, as Localizer.T found them
}

// MissingFunc is told about a message a Localizer could not find in its language (it
// showed the message of a fallback language, or the id when no language has it), or
// whose template failed.
type MissingFunc func(lang, id string, err error)

// NewBundle loads the catalogs in the Dir folder of each source. Each source is a
// separate catalog (the web kit's, a plugin's), so an id defined by two of them is an
// error, as is a source without an English catalog or a file go-i18n cannot read.
func NewBundle(sources ...fs.FS) (*Bundle, error) {
	gb := goi18n.NewBundle(language.English)
	gb.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	b := &Bundle{b: gb, loc: map[string]*goi18n.Localizer{}, ids: map[string]map[string]bool{}}
	var english []*goi18n.Message
	for i, src := range sources {
		files, err := ReadCatalog(src)
		if err != nil {
			return nil, fmt.Errorf("i18n: catalog %d: %w", i+1, err)
		}
		for _, f := range files {
			lang := f.Tag.String()
			if b.ids[lang] == nil {
				b.ids[lang] = map[string]bool{}
				b.langs = append(b.langs, lang)
			}
			for _, m := range f.Messages {
				if b.ids[lang][m.ID] {
					return nil, fmt.Errorf("i18n: %s: message %q is defined by two catalogs", f.Path, m.ID)
				}
				b.ids[lang][m.ID] = true
			}
			if err := gb.AddMessages(f.Tag, f.Messages...); err != nil {
				return nil, fmt.Errorf("i18n: %s: %w", f.Path, err)
			}
			if lang == Fallback {
				english = append(english, f.Messages...)
			}
		}
	}
	if b.ids[Fallback] == nil {
		return nil, errors.New("i18n: no English catalog (locales/en.toml): English is every language's last fallback")
	}
	pseudo := make([]*goi18n.Message, 0, len(english))
	b.ids[Pseudo] = map[string]bool{}
	for _, m := range english {
		pseudo = append(pseudo, pseudoMessage(m))
		b.ids[Pseudo][m.ID] = true
	}
	if err := gb.AddMessages(language.MustParse(Pseudo), pseudo...); err != nil {
		return nil, fmt.Errorf("i18n: pseudo-locale: %w", err)
	}
	slices.Sort(b.langs)
	for lang := range b.ids {
		b.loc[lang] = goi18n.NewLocalizer(gb, lang)
	}
	return b, nil
}

// MustBundle is NewBundle for catalogs embedded in the program, where an error is a bug.
func MustBundle(sources ...fs.FS) *Bundle {
	b, err := NewBundle(sources...)
	if err != nil {
		panic(err)
	}
	return b
}

// CatalogFile is one language's file of a catalog, as go-i18n reads it.
type CatalogFile = goi18n.MessageFile

// ReadCatalog reads every locales/<tag>.toml and locales/<part>.<tag>.toml of fsys with
// go-i18n, without adding it to a bundle: CheckCatalog inspects catalogs through it.
func ReadCatalog(fsys fs.FS) ([]*CatalogFile, error) {
	names, err := fs.Glob(fsys, Dir+"/*.toml")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no catalog files %s/*.toml", Dir)
	}
	parser := goi18n.NewBundle(language.English)
	parser.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	var out []*CatalogFile
	for _, name := range names {
		base := strings.TrimSuffix(path.Base(name), ".toml")
		tag := base[strings.LastIndex(base, ".")+1:]
		if t, err := language.Parse(tag); err != nil || t.String() != tag {
			return nil, fmt.Errorf("%s: the file name does not end in a canonical BCP 47 tag (<tag>.toml or <part>.<tag>.toml)", name)
		}
		buf, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseMessageFileBytes(buf, name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// Languages are the languages the bundle has a catalog for, sorted; Pseudo is not one.
func (b *Bundle) Languages() []string { return slices.Clone(b.langs) }

// Has reports whether the bundle has a catalog for lang (Pseudo included).
func (b *Bundle) Has(lang string) bool { return b.ids[lang] != nil }

// HasMessage reports whether lang's catalog has the message id.
func (b *Bundle) HasMessage(lang, id string) bool { return b.ids[lang][id] }

// OnMissing replaces what the bundle does about a missing message (see MissingFunc);
// nil restores the default, which logs each language and id once with slog. Tests call
// i18ntest.Strict instead.
func (b *Bundle) OnMissing(fn MissingFunc) {
	if fn == nil {
		b.missing.Store(nil)
		return
	}
	b.missing.Store(&fn)
}

func (b *Bundle) reportMissing(lang, id string, err error) {
	if fn := b.missing.Load(); fn != nil {
		(*fn)(lang, id, err)
		return
	}
	if _, seen := b.reported.LoadOrStore(lang+"\x00"+id, struct{}{}); seen {
		return
	}
	slog.Warn("i18n: message missing, showing a fallback", "lang", lang, "id", id, "error", err)
}

// Localizer is a Localizer for lang, falling back to each of fallbacks (the city's
// default language) and then to English. A language the bundle has no catalog for is
// skipped, so Lang tells which language the text is really in. lang may be a regional
// tag ("sv-FI"), which counts as its language ("sv").
func (b *Bundle) Localizer(lang string, fallbacks ...string) *Localizer {
	l := &Localizer{b: b}
	for _, c := range append(append([]string{lang}, fallbacks...), Fallback) {
		c = b.known(c)
		if c != "" && !slices.Contains(l.chain, c) {
			l.chain = append(l.chain, c)
		}
	}
	l.fmt = formatsFor(l.chain[0])
	return l
}

// known is the bundle's language for a requested tag: the tag itself, or its base
// language; "" when the bundle has neither.
func (b *Bundle) known(tag string) string {
	if tag == "" || len(tag) > maxTag {
		return ""
	}
	if b.ids[tag] != nil {
		// The bundle's own copy: the tag may come from a request's memory, and the
		// Localizer keeps it (and caches key on it).
		if i := slices.Index(b.langs, tag); i >= 0 {
			return b.langs[i]
		}
		return strings.Clone(tag)
	}
	t, err := language.Parse(tag)
	if err != nil {
		return ""
	}
	if s := t.String(); b.ids[s] != nil {
		return s
	}
	base, _ := t.Base()
	if b.ids[base.String()] != nil {
		return base.String()
	}
	return ""
}

// Texts is the message id in every language of the bundle (Pseudo left out), for what a
// plugin's manifest names in each language without calling the plugin: nav entries,
// cards, roles, notification kinds, data uses. A language whose catalog lacks id is
// left out, so the host falls back to English rather than show an id.
func (b *Bundle) Texts(id string) map[string]string {
	out := make(map[string]string, len(b.langs))
	for _, lang := range b.langs {
		if b.ids[lang][id] {
			out[lang] = b.Localizer(lang).T(id)
		}
	}
	return out
}
