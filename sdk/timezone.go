package sdk

import (
	"errors"
	"time"
)

// LoadTimeZone loads an IANA time zone such as "Europe/Helsinki" for input a client
// sent. It refuses "" and "Local", which time.LoadLocation accepts as UTC and as the
// server's own zone: a park or meeting must not change its clock when the city moves
// its servers.
func LoadTimeZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, errors.New("not an IANA time zone")
	}
	return time.LoadLocation(name)
}
