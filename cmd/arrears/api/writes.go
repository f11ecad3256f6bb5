package api

import "net/http"

// writeRoutes are the write routes (each one event on ar.events).
func (s *Server) writeRoutes() []route { return nil }

// idemKeyOf is the request's Idempotency-Key header.
func idemKeyOf(r *http.Request) string { return r.Header.Get("Idempotency-Key") }
