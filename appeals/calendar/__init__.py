"""The Russian working-day calendar: working hours, holidays, transfers, shortened days, regions.

Pure code: it receives parsed models and reads no files.

- `config`: CalendarConfig (config/calendar.toml): hours, zones, municipality → region;
- `production`: the federal production calendar from the `holidays` package, and the Labour
  Code alone for a year an appeal did not pin;
- `regions`: a republic's own days off (config/regions/<region>.toml);
- `working`: WorkingCalendar (the arithmetic), CalendarSnapshot (what an appeal pins) and
  Calendars (every municipality's calendar);
- `notes` / `explain`: why a deadline is where it is.

`appeals.working_calendar` re-exports the public names.
"""
