// Package tlsconf owns the TLS block every arrears client connection takes
// in its YAML section (redis.tls, clickhouse.tls, ...): whether TLS is on,
// the CA that signs the server's certificate, the name to verify, and an
// optional client certificate for mutual TLS. Client reads the certificate
// files and Validate checks that they exist. Server is the block of a
// listener arrears opens (http.tls): its certificate and key, reloaded when
// the files change. IO on local files only.
package tlsconf
