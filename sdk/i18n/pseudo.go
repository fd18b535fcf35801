package i18n

import (
	"strings"
	"unicode/utf8"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

// accented maps ASCII letters to accented look-alikes that stay readable.
var accented = map[rune]rune{
	'a': 'á', 'b': 'ƀ', 'c': 'ç', 'd': 'ð', 'e': 'é', 'f': 'ƒ', 'g': 'ĝ', 'h': 'ĥ', 'i': 'í',
	'j': 'ĵ', 'k': 'ķ', 'l': 'ľ', 'm': 'ɱ', 'n': 'ñ', 'o': 'ó', 'p': 'þ', 'q': 'ǫ', 'r': 'ŕ',
	's': 'š', 't': 'ţ', 'u': 'ú', 'v': 'ṽ', 'w': 'ŵ', 'x': 'ẋ', 'y': 'ý', 'z': 'ž',
	'A': 'Å', 'B': 'Ɓ', 'C': 'Ç', 'D': 'Ð', 'E': 'É', 'F': 'Ƒ', 'G': 'Ĝ', 'H': 'Ĥ', 'I': 'Í',
	'J': 'Ĵ', 'K': 'Ķ', 'L': 'Ľ', 'M': 'Ṁ', 'N': 'Ñ', 'O': 'Ó', 'P': 'Þ', 'Q': 'Ǫ', 'R': 'Ŕ',
	'S': 'Š', 'T': 'Ţ', 'U': 'Ú', 'V': 'Ṽ', 'W': 'Ŵ', 'X': 'Ẋ', 'Y': 'Ý', 'Z': 'Ž',
}

// PseudoText is s pseudo-localized: letters accented, 40% longer (padding of "~"),
// bracketed — "[Ñéẋţ þáĝé~~~~]". Template actions ({{.Name}}) are kept as they are, so
// the message still fills in its data; text that reaches a page without brackets did
// not come whole from the catalog.
func PseudoText(s string) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString("[")
	letters := 0
	rest := s
	for rest != "" {
		open := strings.Index(rest, "{{")
		text := rest
		if open >= 0 {
			text = rest[:open]
		}
		for _, r := range text {
			if a, ok := accented[r]; ok {
				r = a
			}
			b.WriteRune(r)
		}
		letters += utf8.RuneCountInString(text)
		if open < 0 {
			break
		}
		end := strings.Index(rest[open:], "}}")
		if end < 0 { // not a template action after all: keep it
			b.WriteString(rest[open:])
			break
		}
		b.WriteString(rest[open : open+end+2])
		letters += 4 // a filled-in value is text too
		rest = rest[open+end+2:]
	}
	b.WriteString(strings.Repeat("~", (letters*4+9)/10))
	b.WriteString("]")
	return b.String()
}

// pseudoMessage is m with every form pseudo-localized.
func pseudoMessage(m *goi18n.Message) *goi18n.Message {
	c := *m
	for _, f := range []*string{&c.Zero, &c.One, &c.Two, &c.Few, &c.Many, &c.Other} {
		*f = PseudoText(*f)
	}
	return &c
}
