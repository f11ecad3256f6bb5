-- The receivables snapshot: aging, DSO and CEI as of a day become a lookup.
-- One build of day D (as_of) holds, computed by the reference queries over
-- every fact with an event time before the midnight after D, with each
-- account in its segment as of D, sums per (segment, currency) only, so a
-- build has a few thousand rows whatever the number of accounts:
--   kind 1: open receivables (units of 10^-4) by due date (day), > 0 only;
--   kind 2: credit sales by issue date (day), issue dates in (D - 366, D],
--           invoices not cancelled by D;
--   kind 3: one row per (segment, currency) with any invoice (so a fully
--           paid group still appears in DSO and CEI), units = the accounts
--           with anything open (aging's accounts), day 0;
--   kind 4: open receivables as of the day (day) that starts a CEI period
--           ending on D, per (segment, currency);
--   kind 5: one row per period start of kind 4 (segment and currency '').
-- A build is written under a new build id (a partition of its own) and
-- becomes visible only when its row in snapshot_builds says ready; a
-- stale row there (the sink landed a fact dated on or before D after the
-- build started) sends the reports back to the reference queries until
-- the next build. Older builds of a day are dropped by the next build.
-- Backfill: nothing here; the sink builds every month end it lacks when
-- it starts and as its event-time watermark passes each month end, and
-- `arrears report snapshot -as-of D` builds any day by hand
-- (docs/analytics.md).
CREATE TABLE IF NOT EXISTS {db}.receivables_snapshot (
    as_of    Date,
    build    UInt64,
    kind     UInt8,
    segment  String,
    currency String,
    day      Date,
    units    Int64
) ENGINE = MergeTree
PARTITION BY (toYYYYMMDD(as_of), build)
ORDER BY (as_of, build, kind, segment, currency, day);

-- Builds and stale marks: a build is usable while its build id (Unix
-- nanoseconds when it started reading) is above every stale mark's
-- version for its day.
CREATE TABLE IF NOT EXISTS {db}.snapshot_builds (
    as_of   Date,
    state   String,       -- ready, stale
    build   UInt64,       -- ready: the build id; stale: 0
    version UInt64,       -- ready: the build id; stale: when it was marked
    rows    UInt64,
    at      DateTime('UTC')
) ENGINE = MergeTree
ORDER BY (as_of, version);
