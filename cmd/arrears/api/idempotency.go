package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
)

// Idempotency. Every write carries an Idempotency-Key. Its scope is the
// route pattern, the account (or approval) and the key: the event id is
// derived from that scope alone (eventID), so even a produce repeated
// after a crash carries the same id, which the ledger ignores as a repeat.
// The first request with a scope reserves it in Redis
// (KeyPrefix:idem:<scope hash>, SET NX) with the SHA-256 of its
// normalised body; the answer is stored there for api.idempotency_ttl.
// A retry with the same body gets the stored answer (same event id, no
// second produce); a different body with the same key is 422; a retry
// while the first is still running is 409. A request that fails (4xx,
// 5xx) releases its reservation, so it can be retried once fixed.

// idemReserveTTL bounds a reservation whose request died before
// finishing.
const idemReserveTTL = time.Minute

// idemRecord is what Redis keeps per scope.
type idemRecord struct {
	Hash   string      `json:"h"`
	Done   bool        `json:"d"`
	Result writeResult `json:"r"`
}

var errIdemMismatch = errors.New("idempotency key reused with a different request")
var errIdemBusy = errors.New("a request with this idempotency key is in progress")

// scopeHash is the hex SHA-256 of a write's scope.
func scopeHash(pattern, scope, key string) string {
	h := sha256.Sum256([]byte(pattern + "\x00" + scope + "\x00" + key))
	return hex.EncodeToString(h[:])
}

// eventID is the event id of a scope: "api-" and 32 hex digits.
func eventID(scopeHex string) string { return "api-" + scopeHex[:32] }

// bodyHash hashes the decoded request re-encoded (field order and spacing
// of the client's JSON do not matter).
func bodyHash(req any) string {
	b, _ := json.Marshal(req)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func (s *Server) idemKey(scopeHex string) string { return s.cfg.KeyPrefix + ":idem:" + scopeHex }

// reserve claims the scope, or returns the stored answer of an earlier
// request with it (done), or errIdemMismatch / errIdemBusy.
func (s *Server) reserve(ctx context.Context, scopeHex, hash string) (*idemRecord, error) {
	if s.deps.Redis == nil {
		return nil, errors.New("no redis for idempotency keys")
	}
	b, _ := json.Marshal(idemRecord{Hash: hash})
	ok, err := s.deps.Redis.SetNX(ctx, s.idemKey(scopeHex), b, idemReserveTTL).Result()
	if err != nil {
		return nil, fmt.Errorf("redis reserve idempotency key: %w", err)
	}
	if ok {
		return nil, nil
	}
	v, err := s.deps.Redis.Get(ctx, s.idemKey(scopeHex)).Bytes()
	if errors.Is(err, redis.Nil) { // expired between the two calls: try once more
		return s.reserve(ctx, scopeHex, hash)
	}
	if err != nil {
		return nil, fmt.Errorf("redis read idempotency key: %w", err)
	}
	var rec idemRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("idempotency record: %w", err)
	}
	switch {
	case rec.Hash != hash:
		return nil, errIdemMismatch
	case !rec.Done:
		return nil, errIdemBusy
	}
	return &rec, nil
}

// complete stores the answer of the scope's request.
func (s *Server) complete(ctx context.Context, scopeHex, hash string, res writeResult) error {
	b, _ := json.Marshal(idemRecord{Hash: hash, Done: true, Result: res})
	if err := s.deps.Redis.Set(context.WithoutCancel(ctx), s.idemKey(scopeHex), b, s.cfg.IdempotencyTTL).Err(); err != nil {
		return fmt.Errorf("redis store idempotency key: %w", err)
	}
	return nil
}

// release drops a reservation whose request failed.
func (s *Server) release(ctx context.Context, scopeHex string) {
	if err := s.deps.Redis.Del(context.WithoutCancel(ctx), s.idemKey(scopeHex)).Err(); err != nil {
		s.log.Warn("api: idempotency reservation not released (it expires by itself)", "err", err)
	}
}

// idemProblem answers a reserve error.
func (s *Server) idemProblem(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errIdemMismatch):
		writeProblem(w, r, http.StatusUnprocessableEntity, "Idempotency-Key reused",
			"this key was used for a different request; use a new key for a new request",
			FieldError{"Idempotency-Key", "already used with a different body"})
	case errors.Is(err, errIdemBusy):
		writeProblem(w, r, http.StatusConflict, "Request in progress", "a request with this Idempotency-Key is still running; retry later")
	default:
		s.unavailable(w, r, "redis", err)
	}
}

// once runs a write under its Idempotency-Key: the first request with the
// scope runs run (which answers a refusal itself and returns false) and
// its result is remembered; a retry gets the remembered result; then the
// result is answered (with ?wait).
func (s *Server) once(w http.ResponseWriter, r *http.Request, scopeHex, hash string, wait time.Duration, run func() (writeResult, bool)) {
	prev, err := s.reserve(r.Context(), scopeHex, hash)
	if err != nil {
		s.idemProblem(w, r, err)
		return
	}
	res := writeResult{}
	if prev != nil {
		res = prev.Result
	} else {
		var ok bool
		if res, ok = run(); !ok {
			s.release(r.Context(), scopeHex)
			return
		}
		if err := s.complete(r.Context(), scopeHex, hash, res); err != nil {
			s.log.Warn("api: write answer not remembered (a retry would run again, with the same event id)", "err", err)
		}
	}
	s.answer(w, r, res, wait)
}
