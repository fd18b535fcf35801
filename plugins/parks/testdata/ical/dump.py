"""Reads an iCalendar feed with python icalendar (Debian's python3-icalendar) and
prints what a calendar client takes from it, as JSON, in the form of dump.mjs."""
import datetime
import json
import sys

import icalendar


def text(c, name):
    v = c.get(name)
    return None if v is None else str(v)


def time(c, name):
    v = c.get(name)
    if v is None:
        return None
    return v.dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def categories(e):
    v = e.get("CATEGORIES")
    if v is None:
        return []
    vals = v if isinstance(v, list) else [v]
    out = []
    for x in vals:
        out.extend(getattr(x, "cats", None) or [str(x)])
    return [str(c) for c in out]


with open(sys.argv[1], "rb") as f:
    cal = icalendar.Calendar.from_ical(f.read())
events = []
for e in cal.walk("VEVENT"):
    org = e.get("ORGANIZER")
    seq = e.get("SEQUENCE")
    events.append({
        "uid": text(e, "UID"), "summary": text(e, "SUMMARY"), "description": text(e, "DESCRIPTION"),
        "location": text(e, "LOCATION"), "url": text(e, "URL"), "status": text(e, "STATUS"),
        "sequence": None if seq is None else int(seq),
        "start": time(e, "DTSTART"), "end": time(e, "DTEND"), "stamp": time(e, "DTSTAMP"),
        "organizer": None if org is None else str(org),
        "organizer_cn": None if org is None else (str(org.params["CN"]) if "CN" in org.params else None),
        "categories": categories(e),
        "geo": None if e.get("GEO") is None else [e.get("GEO").latitude, e.get("GEO").longitude],
    })
out = {
    "calendar": {"version": text(cal, "VERSION"), "prodid": text(cal, "PRODID"),
                 "method": text(cal, "METHOD"), "name": text(cal, "X-WR-CALNAME")},
    "components": [c.name.upper() for c in cal.subcomponents],
    "events": events,
}
sys.stdout.write(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
