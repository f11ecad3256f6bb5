package kafkax

// Headers of an erasure tombstone (key: the account, value: nil) on the
// status topic (processor/erase.go): the AccountErased event's id, source
// ("api:<actor>"), reason code and event time (unix ms, ASCII decimal).
// They name no personal data; the sink lands them in its erasures audit.
const (
	HeaderErasureID     = "erasure_id"
	HeaderErasureSource = "erasure_source"
	HeaderErasureReason = "erasure_reason"
	HeaderErasureTime   = "erasure_time"
)
