package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ConfigError is one problem with the configuration, said so that an operator can fix
// it without reading Go: the key, where it was set (the file and line, or the
// environment variable), what is wrong and what is expected.
type ConfigError struct {
	// File is the config file; empty when the value came from elsewhere.
	File string
	// Line and Column locate the value in File (1-based); 0 when unknown.
	Line, Column int
	// Env is the environment variable the value came from, if it did.
	Env string
	// Key is the dotted path of the key, e.g. "city.time_zone" or "plugins[2].sha256";
	// empty for a problem with the file as a whole.
	Key string
	// Problem says what is wrong, Expected what would be right.
	Problem  string
	Expected string
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("config")
	switch {
	case e.Env != "":
		fmt.Fprintf(&b, " (environment variable %s)", e.Env)
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, " %s, line %d, column %d", e.File, e.Line, e.Column)
	case e.File != "":
		fmt.Fprintf(&b, " %s", e.File)
	}
	b.WriteString(": ")
	if e.Key != "" {
		fmt.Fprintf(&b, "%s ", e.Key)
	}
	b.WriteString(e.Problem)
	if e.Expected != "" {
		b.WriteString("; expected ")
		b.WriteString(e.Expected)
	}
	return b.String()
}

// position is a place in the config file.
type position struct{ line, column int }

// configChecker walks a config file's JSON alongside the Go type it fills, so that a
// wrong type or an unknown key is reported with its full key path and line instead of
// as encoding/json's message about Go struct fields. It records where each key's value
// sits, for problems found later by Validate.
type configChecker struct {
	file   string
	src    []byte
	dec    *json.Decoder
	places map[string]position
}

// checkConfigJSON reports the first problem with src as a config file, and where each
// key was set.
func checkConfigJSON(file string, src []byte) (map[string]position, error) {
	c := &configChecker{file: file, src: src, dec: json.NewDecoder(bytes.NewReader(src)), places: map[string]position{}}
	c.dec.UseNumber()
	if len(bytes.TrimSpace(src)) == 0 {
		return nil, &ConfigError{File: file, Problem: "is empty", Expected: `a JSON object such as {"listen": "127.0.0.1:8080"}`}
	}
	if err := c.value(reflect.TypeFor[Config](), ""); err != nil {
		return nil, err
	}
	at := c.next()
	if _, err := c.dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &ConfigError{File: file, Line: at.line, Column: at.column, Problem: "has more after the configuration object",
			Expected: "one JSON object and nothing after it"}
	}
	return c.places, nil
}

// next is where the next token starts: past blanks and the separators Token skips.
func (c *configChecker) next() position {
	off := int(c.dec.InputOffset())
	for off < len(c.src) && strings.IndexByte(" \t\r\n,:", c.src[off]) >= 0 {
		off++
	}
	return c.at(off)
}

func (c *configChecker) at(off int) position {
	off = min(off, len(c.src))
	before := c.src[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	return position{line: line, column: off - bytes.LastIndexByte(before, '\n')}
}

func (c *configChecker) fail(at position, key, problem, expected string) error {
	return &ConfigError{File: c.file, Line: at.line, Column: at.column, Key: key, Problem: problem, Expected: expected}
}

// token reads the next token, turning a syntax error into a ConfigError.
func (c *configChecker) token(key string) (json.Token, position, error) {
	at := c.next()
	tok, err := c.dec.Token()
	if err == nil {
		return tok, at, nil
	}
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		return nil, at, c.fail(c.at(int(syn.Offset)), "", "is not valid JSON ("+syn.Error()+")", "JSON: keys and strings in double quotes, commas between items and none after the last")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return nil, at, c.fail(c.at(len(c.src)), "", "ends in the middle of a value", "every { [ and \" closed")
	}
	return nil, at, c.fail(at, key, "could not be read: "+err.Error(), "")
}

var durationType = reflect.TypeFor[Duration]()

// describe says in plain words what a value of type t looks like in the file.
func describe(t reflect.Type, key string) string {
	if ex, ok := expectations[strings.TrimRight(strings.SplitN(key, "[", 2)[0], ".")]; ok && !strings.Contains(key, "[") {
		return ex
	}
	switch {
	case t == durationType:
		return `a duration such as "500ms" or "2s"`
	case t.Kind() == reflect.Pointer:
		return describe(t.Elem(), key)
	case t.Kind() == reflect.String:
		return "a string in double quotes"
	case t.Kind() == reflect.Int:
		return "a whole number"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return `a list of strings such as ["a", "b"]`
	case t.Kind() == reflect.Slice:
		return "a list [...] of " + describe(t.Elem(), key+"[0]")
	case t.Kind() == reflect.Map:
		return `an object of strings such as {"name": "value"}`
	case t.Kind() == reflect.Struct:
		return "an object {...} with the keys " + strings.Join(keysOf(t), ", ")
	}
	return t.String()
}

// expectations are what the keys whose shape is not obvious from their type hold.
var expectations = map[string]string{
	"plugins":          `a list of plugins such as [{"name": "parks"}, {"name": "ext", "path": "/opt/ext", "sha256": "..."}]`,
	"city":             `an object such as {"name": "Espoo", "time_zone": "Europe/Helsinki", "languages": ["fi", "sv", "en"]}`,
	"city.languages":   `a list of lower-case language codes such as ["fi", "sv", "en"]`,
	"trusted_proxies":  `a list of addresses such as ["10.0.0.1", "10.0.0.0/8"]`,
	"required_plugins": `a list of plugin names such as ["budgeting"]`,
	"residency_claims": `an object by identity provider such as {"suomifi": {"claim": "address.postal_code", "prefixes": {"001": "kluuvi"}, "on_change": "move"}}`,
}

func keysOf(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if name := jsonName(t.Field(i)); name != "" {
			out = append(out, name)
		}
	}
	return out
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	if name == "" {
		return f.Name
	}
	return name
}

// field finds the struct field a key names; encoding/json also accepts other cases.
func field(t reflect.Type, key string) (reflect.StructField, bool) {
	var folded *reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		switch name := jsonName(f); {
		case name == key:
			return f, true
		case name != "" && folded == nil && strings.EqualFold(name, key):
			folded = &f
		}
	}
	if folded != nil {
		return *folded, true
	}
	return reflect.StructField{}, false
}

// closest suggests the known key a mistyped one was probably meant to be.
func closest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(key, k); d < bestDist || (strings.Contains(k, key) || strings.Contains(key, k)) && best == "" {
			best, bestDist = k, min(d, bestDist)
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// shown quotes what the file had, for a message.
func shown(tok json.Token) string {
	switch v := tok.(type) {
	case string:
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return "the string " + strconv.Quote(v)
	case json.Number:
		return "the number " + v.String()
	case bool:
		return strconv.FormatBool(v)
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "a list"
	}
	return fmt.Sprint(tok)
}

// value checks the next JSON value against t, recording where key was set.
func (c *configChecker) value(t reflect.Type, key string) error {
	tok, at, err := c.token(key)
	if err != nil {
		return err
	}
	if key != "" {
		c.places[key] = at
	}
	if tok == nil { // null leaves the default, as encoding/json does
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	wrong := func() error {
		if key == "" {
			return c.fail(at, "", "holds "+shown(tok), `a JSON object such as {"listen": "127.0.0.1:8080"}`)
		}
		return c.fail(at, key, "is "+shown(tok), describe(t, key))
	}
	switch {
	case t == durationType:
		s, ok := tok.(string)
		if !ok {
			return wrong()
		}
		if _, err := time.ParseDuration(s); err != nil {
			return c.fail(at, key, "is "+shown(tok), describe(t, key))
		}
	case t.Kind() == reflect.String:
		if _, ok := tok.(string); !ok {
			return wrong()
		}
	case t.Kind() == reflect.Bool:
		if _, ok := tok.(bool); !ok {
			return wrong()
		}
	case t.Kind() == reflect.Int:
		n, ok := tok.(json.Number)
		if !ok {
			return wrong()
		}
		if _, err := strconv.ParseInt(n.String(), 10, 32); err != nil {
			return c.fail(at, key, "is "+shown(tok), "a whole number")
		}
	case t.Kind() == reflect.Slice:
		if tok != json.Delim('[') {
			return wrong()
		}
		for i := 0; c.dec.More(); i++ {
			if err := c.value(t.Elem(), fmt.Sprintf("%s[%d]", key, i)); err != nil {
				return err
			}
		}
		_, _, err = c.token(key) // ]
		return err
	case t.Kind() == reflect.Map:
		if tok != json.Delim('{') {
			return wrong()
		}
		for c.dec.More() {
			k, _, err := c.token(key)
			if err != nil {
				return err
			}
			if err := c.value(t.Elem(), key+"."+k.(string)); err != nil {
				return err
			}
		}
		_, _, err = c.token(key) // }
		return err
	case t.Kind() == reflect.Struct:
		if tok != json.Delim('{') {
			return wrong()
		}
		seen := map[string]bool{}
		for c.dec.More() {
			k, kat, err := c.token(key)
			if err != nil {
				return err
			}
			name := k.(string)
			path := name
			if key != "" {
				path = key + "." + name
			}
			f, ok := field(t, name)
			if !ok {
				known := keysOf(t)
				sort.Strings(known)
				problem := "is not a known key"
				if s := closest(name, known); s != "" {
					problem += fmt.Sprintf(" (did you mean %q?)", s)
				}
				return c.fail(kat, path, problem, "one of "+strings.Join(known, ", "))
			}
			if seen[jsonName(f)] {
				return c.fail(kat, path, "is set twice", "each key once")
			}
			seen[jsonName(f)] = true
			if key != "" {
				path = key + "." + jsonName(f)
			} else {
				path = jsonName(f)
			}
			if err := c.value(f.Type, path); err != nil {
				return err
			}
		}
		_, _, err = c.token(key) // }
		return err
	}
	return nil
}
