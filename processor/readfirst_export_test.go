package processor

// Test hook of processor.go's read-first consumer options.
var ReadFirst = readFirst
