package core

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// utf8BOM is the byte-order mark spreadsheet programs (Excel's "CSV UTF-8") write first.
var utf8BOM = []byte("\xef\xbb\xbf")

// ParseMembershipCSV reads the lines of a membership import: email,neighbourhood per
// line, an optional header line starting with "email", a UTF-8 byte-order mark allowed
// at the start. Each data line comes back as an ImportRow; a line that is not exactly
// two fields of text a database can store (valid UTF-8, no NUL, an email of at most 254
// and a neighbourhood of at most 64 characters) has Result "invalid" and the rest is the
// caller's to decide. A file that is not CSV at all is an EINVALID error naming the line.
func ParseMembershipCSV(data []byte) ([]ImportRow, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, utf8BOM)))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	var rows []ImportRow
	for line := 1; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, Malformed("The CSV cannot be read at line %d: %s.", line, csvProblem(err))
		}
		if line == 1 && len(rec) >= 2 && strings.EqualFold(strings.TrimSpace(rec[0]), "email") {
			continue
		}
		row := ImportRow{Line: line}
		if len(rec) != 2 {
			row.Result = "invalid"
			rows = append(rows, row)
			continue
		}
		row.Email, row.Neighbourhood = strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if !storableText(row.Email, 254) || !storableText(row.Neighbourhood, 64) {
			// Echoing the bytes back would put them in the report; keep it storable too.
			row.Email, row.Neighbourhood = strings.ToValidUTF8(strings.ReplaceAll(row.Email, "\x00", ""), ""), strings.ToValidUTF8(strings.ReplaceAll(row.Neighbourhood, "\x00", ""), "")
			row.Result = "invalid"
		}
		rows = append(rows, row)
	}
}

// storableText reports whether s is text both databases store alike, of at most max
// characters.
func storableText(s string, max int) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 && utf8.RuneCountInString(s) <= max
}

// csvProblem says in plain words what the CSV reader found wrong.
func csvProblem(err error) string {
	switch {
	case errors.Is(err, csv.ErrBareQuote):
		return `a field holds a " without being quoted (write "" inside a quoted field)`
	case errors.Is(err, csv.ErrQuote):
		return "a quoted field does not end with a quote"
	}
	return "it is not comma-separated text"
}
