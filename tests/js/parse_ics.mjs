// Reads an iCalendar body on stdin and prints its events as JSON, as ical.js (an independent
// parser from the one the service writes with) understands them; exits non-zero on a parse error.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const text = readFileSync(0, "utf8");
const calendar = new ICAL.Component(ICAL.parse(text));
const utc = (time) => (time ? time.convertToZone(ICAL.Timezone.utcTimezone).toString() : null);
const events = calendar.getAllSubcomponents("vevent").map((component) => {
  const event = new ICAL.Event(component);
  return {
    uid: event.uid,
    summary: event.summary,
    start: utc(event.startDate),
    end: component.hasProperty("dtend") ? utc(event.endDate) : null,
    sequence: event.sequence,
    last_modified: utc(component.getFirstPropertyValue("last-modified")),
  };
});
process.stdout.write(JSON.stringify({
  version: calendar.getFirstPropertyValue("version"),
  prodid: calendar.getFirstPropertyValue("prodid"),
  events,
}));
