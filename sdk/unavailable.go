package sdk

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
)

// RetryAfterOutage is the Retry-After, in seconds, of an answer given while the database
// cannot be reached: long enough for a pool to reconnect, short enough for a person.
const RetryAfterOutage = 5

// ErrUnavailable is returned by Host calls when the host cannot answer for now (its
// database is down, or the connection to it is gone); IsUnavailable recognises it.
var ErrUnavailable = errors.New("unavailable")

// IsUnavailable reports whether err means the database (or another backend) cannot be
// reached right now, as opposed to a bug: a refused or dropped connection, PostgreSQL
// refusing connections (SQLSTATE classes 08 connection exception, 53 insufficient
// resources, 57P01-57P03 shutdown, 28 authorization), or SQLite staying busy past its
// timeout. Such a request answers 503 with Retry-After (DESIGN.md §7), never 500.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return true
	}
	var state interface{ SQLState() string }
	if errors.As(err, &state) {
		s := state.SQLState()
		switch {
		case strings.HasPrefix(s, "08"), strings.HasPrefix(s, "53"), strings.HasPrefix(s, "28"),
			s == "57P01", s == "57P02", s == "57P03":
			return true
		}
		return false
	}
	// modernc.org/sqlite: SQLITE_BUSY (5) after the busy timeout, SQLITE_CANTOPEN (14).
	var coded interface{ Code() int }
	if errors.As(err, &coded) && strings.Contains(err.Error(), "SQLITE_") {
		switch coded.Code() & 0xff {
		case 5, 14:
			return true
		}
	}
	return false
}

// IsBadValue reports whether err is PostgreSQL refusing a value a request carried
// (SQLSTATE class 22, data exception: text where a number belongs, a number out of
// range, a NUL byte). The edge checks input before it reaches the database; this is
// the net under them, so such a value answers 400, never 500, on either database.
func IsBadValue(err error) bool {
	return strings.HasPrefix(sqlState(err), "22")
}

// sqlState is the SQLSTATE of a PostgreSQL error in err's chain, or "".
func sqlState(err error) string {
	var state interface{ SQLState() string }
	if err != nil && errors.As(err, &state) {
		return state.SQLState()
	}
	return ""
}
