// Package feed writes events to the events topic for the commands that feed
// a workload to Kafka, `arrears gen` and `arrears bench`: one paced bulk
// producer (Producer) and one encoding of an event as a record (Record).
//
// It does Kafka IO (producing); it reads no configuration of its own.
package feed
