// Package interop holds the interoperability test of issue 17: arrears run
// against Kafka and Avro clients nobody on the project wrote, installed by
// `make interop` (deploy/local/interop.sh) from their registries. A Python
// confluent-kafka producer (librdkafka's default CRC32 partitioner; values
// written by fastavro from schemas/ar_event.avsc, in single-object encoding and
// in Confluent framing) feeds a small book to an `arrears run` child; a second
// Python producer with the murmur2 partitioner pays some of the accounts, so
// those accounts' records arrive on two partitions. A kafkajs consumer
// (read_committed) decodes ar.dunning.actions and ar.risk.events with avsc,
// Apache Avro for Java's BinaryMessageDecoder and fastavro decode the action
// records, and the test checks each account's actions. The client programs
// are deploy/interop/.
//
// The package has no code besides its tests; they do network and process IO
// against the local stack (make up) and fail, never skip, when a service or a
// client is missing, unless run with -short.
package interop
