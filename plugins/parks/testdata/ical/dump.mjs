// Reads an iCalendar feed with ical.js (vendored: ical-2.2.1.min.mjs) and prints
// what a calendar client takes from it, as JSON; dump.py prints the same with
// python icalendar, and TestFeed_ParsersAgree compares the two.
import { readFileSync } from "node:fs";
import ICAL from "./ical-2.2.1.min.mjs";

const cal = new ICAL.Component(ICAL.parse(readFileSync(process.argv[2], "utf8")));
const text = (c, name) => {
  const v = c.getFirstPropertyValue(name);
  return v === null ? null : String(v);
};
const time = (c, name) => {
  const v = c.getFirstPropertyValue(name);
  return v === null ? null : v.toJSDate().toISOString().replace(".000Z", "Z");
};
const out = {
  calendar: { version: text(cal, "version"), prodid: text(cal, "prodid"), method: text(cal, "method"), name: text(cal, "x-wr-calname") },
  components: cal.getAllSubcomponents().map((c) => c.name.toUpperCase()),
  events: cal.getAllSubcomponents("vevent").map((e) => {
    const org = e.getFirstProperty("organizer");
    const cats = e.getFirstProperty("categories");
    return {
      uid: text(e, "uid"), summary: text(e, "summary"), description: text(e, "description"),
      location: text(e, "location"), url: text(e, "url"), status: text(e, "status"),
      sequence: e.getFirstPropertyValue("sequence"),
      start: time(e, "dtstart"), end: time(e, "dtend"), stamp: time(e, "dtstamp"),
      organizer: org ? String(org.getFirstValue()) : null, organizer_cn: org ? (org.getParameter("cn") ?? null) : null,
      categories: cats ? cats.getValues().map(String) : [],
      geo: e.getFirstPropertyValue("geo"),
    };
  }),
};
process.stdout.write(JSON.stringify(out, null, 1) + "\n");
