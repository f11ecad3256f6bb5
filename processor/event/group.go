package event

// Collections-group events (docs/processing.md "Collections groups"). The
// group stage writes them to kafka.topics.events in its own transaction;
// nobody else should. They carry everything the account stage decides on,
// so a replay of ar.events decides exactly as the live run did: the account
// stage never reads the group store.

// GroupContext is a group's clock-independent figures, keyed by the
// group's own account (the parent account id). The receiving account works
// out what is overdue, and how many days past due, at its own partition
// clock from the due dates.
type GroupContext struct {
	// GroupID is the group node (the parent account id, the event's key).
	GroupID string
	// Version is the group stage's input position of the figures: a
	// context not newer than the account's last is a repeat.
	Version int64
	// Accounts counts the accounts summed; Suspended those not ACTIVE.
	Accounts  int64
	Suspended int64
	// Exposure is the open and disputed amount per currency.
	Exposure []GroupExposure
	// Due is the group's undisputed open amount per currency and due date.
	Due []GroupDue
	// Children summarises each child ("a:X" a child account, "g:Y" a child
	// group's subtree): its undisputed open amount by due date.
	Children []GroupChildSummary
}

// GroupExposure is a group's open amount in one currency.
type GroupExposure struct {
	Currency Currency
	Exposure Amount
	Disputed Amount
}

// GroupDue is an undisputed open amount due on one date.
type GroupDue struct {
	Currency Currency
	DueDate  Date
	Amount   Amount
}

// GroupChildSummary is one child's dues.
type GroupChildSummary struct {
	ChildID string
	Due     []GroupDue
}

// GroupServiceChange is a group-level parent's SUSPEND (Suspend) or
// RESTORE cascaded to a descendant account: Group is the parent account,
// CascadeID the parent's action id.
type GroupServiceChange struct {
	Group     string
	CascadeID string
	Suspend   bool
}

// GroupConditions is the state of the group conditions
// (processor.groups.conditions) of a descendant account's collections
// group, sent down from the group's top node when a condition's flip date
// changes (never per change of the group's figures), and to a child that
// joins. Group is the top's account, Version its input position: a
// GroupConditions of the same group not newer than the account's last is
// a repeat.
type GroupConditions struct {
	Group      string
	Version    int64
	Conditions []GroupCondition
}

// GroupCondition is one named condition of a group. Its metric (overdue
// share, worst days past due, highest PD, suspended share) reaches the
// threshold from day Flip on (0: whatever the day), or, Never, not at all
// with the group's figures as they are: a Below condition holds while the
// metric has not reached it, an at-least one once it has. Rule spells the
// condition for explanations ("overdue_share below 0.02").
type GroupCondition struct {
	Name  string
	Rule  string
	Below bool
	Never bool
	Flip  Date
}

// Holds reports whether the condition holds on day d.
func (c GroupCondition) Holds(d Date) bool {
	reached := !c.Never && d >= c.Flip
	return reached != c.Below
}

func (*GroupContext) Kind() Kind       { return KindGroupContext }
func (*GroupServiceChange) Kind() Kind { return KindGroupServiceChange }
func (*GroupConditions) Kind() Kind    { return KindGroupConditions }
