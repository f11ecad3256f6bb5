-- The operator API's audit trail (cmd/arrears/api, audit.go): one row per
-- write request that reached a write route with a valid token, allowed or
-- denied. actor is the token's name, role its role; route is the route
-- pattern ("POST /api/v1/accounts/{id}/promises"), never the raw path;
-- event_id is the ar.events record the write produced (empty when none:
-- denied, invalid, pending approval); status is the HTTP status answered;
-- detail is a fixed phrase (the problem title or the event kind), never
-- request text, so the table holds no personal data beyond the account id.
-- time_ms orders the rows within a second (18.16 has no DateTime64).
CREATE TABLE IF NOT EXISTS {db}.audit (
    time            DateTime('UTC'),
    time_ms         Int64,
    actor           String,
    role            String,
    method          String,
    route           String,
    account_id      String,
    request_id      String,
    idempotency_key String,
    event_id        String,
    status          UInt16,
    detail          String
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(time)
ORDER BY (account_id, time_ms);
