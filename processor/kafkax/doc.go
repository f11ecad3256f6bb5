// Package kafkax owns arrears' Kafka plumbing shared by the processor, the
// sink and the tools: broker and topic configuration, topic creation and the
// co-partitioning check, and client construction. It does network IO.
package kafkax
