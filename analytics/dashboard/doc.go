// Package dashboard serves the collections dashboard: one embedded page
// (Chart.js 4, vendored from the npm registry, so it works offline) and a
// JSON API over the named analytics reports. It does IO only through the
// Source interface it declares (analytics over ClickHouse in production, a
// fake in tests) and net/http. It also serves the collector workspace at
// /workspace/ (static/workspace.*): a page with no server side of its own
// that talks to the operator API at /api/v1 with the signed-in token.
package dashboard
