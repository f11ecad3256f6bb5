// Package tlstest makes throwaway certificates for tests: a CA and leaf
// certificates it signs, written as PEM files into a test's directory.
// It does IO on those files only.
package tlstest
