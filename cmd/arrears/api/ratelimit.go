package api

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter keeps one token bucket per API token (golang.org/x/time/rate:
// the standard, well-tested bucket; a hand-written one would need its own
// tests for refill and burst edge cases). Buckets of tokens idle for an
// hour are dropped so that the map stays the size of the active team.
type limiter struct {
	mu      sync.Mutex
	perSec  rate.Limit
	burst   int
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	l    *rate.Limiter
	last time.Time
}

func newLimiter(perSec float64, burst int) *limiter {
	return &limiter{perSec: rate.Limit(perSec), burst: burst, buckets: map[string]*bucket{}}
}

// allow takes one request from name's bucket; when empty it says how long
// until the next one is allowed.
func (l *limiter) allow(name string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Hour {
		for k, b := range l.buckets {
			if now.Sub(b.last) > time.Hour {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[name]
	if b == nil {
		b = &bucket{l: rate.NewLimiter(l.perSec, l.burst)}
		l.buckets[name] = b
	}
	b.last = now
	r := b.l.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// rateLimit answers 429 with Retry-After (whole seconds, at least 1) when
// the caller's token is over its rate.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, wait := s.limits.allow(principalOf(r).Name, s.deps.Now())
		if !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Max(1, math.Ceil(wait.Seconds())))))
			writeProblem(w, r, http.StatusTooManyRequests, "Too many requests", "this token is over api.rate_per_second")
			return
		}
		next.ServeHTTP(w, r)
	})
}
