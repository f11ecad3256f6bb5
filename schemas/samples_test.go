package schemas

import (
	"time"

	"github.com/arrears/arrears/processor/event"
)

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589_000_000, time.UTC)

func d(s string) event.Date {
	v, err := event.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return v
}

func env(id string, body event.Body) event.Event {
	acct := "ACC-1001"
	if body.Kind() == event.KindClockTick {
		acct = ""
	}
	return event.Event{ID: id, Time: t0, Source: "billing", Account: acct, Body: body}
}

// sampleEvents has one event of every inbound kind, with every optional
// field set, keyed by fixture name.
func sampleEvents() map[string]event.Event {
	amt := event.MustAmount
	return map[string]event.Event{
		"invoice_issued": env("ev-1", &event.InvoiceIssued{InvoiceID: "INV-1", Currency: "EUR", Amount: amt("49.99"),
			IssueDate: d("2025-03-01"), DueDate: d("2025-03-15"), BillCycle: "C01"}),
		"invoice_adjusted": env("ev-2", &event.InvoiceAdjusted{AdjustmentID: "CN-1", InvoiceID: "INV-1", Type: event.Credit,
			Currency: "EUR", Amount: amt("10.01"), Reason: "goodwill"}),
		"invoice_cancelled": env("ev-3", &event.InvoiceCancelled{InvoiceID: "INV-2", Reason: "duplicate"}),
		"payment_received": env("ev-4", &event.PaymentReceived{PaymentID: "PAY-1", Currency: "EUR", Amount: amt("1.26"),
			Method: "card", InvoiceIDs: []string{"INV-1", "INV-3"}}),
		"payment_reversed": env("ev-5", &event.PaymentReversed{PaymentID: "PAY-1", Reason: "chargeback"}),
		"refund":           env("ev-6", &event.Refund{RefundID: "RF-1", Currency: "GBP", Amount: amt("341.97"), PaymentID: "PAY-9"}),
		"account_upserted": env("ev-7", &event.AccountUpserted{Segment: event.Corporate, ParentID: "ACC-1", CreditClass: "B",
			Currency: "EUR", Timezone: "Europe/Berlin", CreditLimit: amt("5000"),
			Consents: []event.Channel{event.Email, event.SMS, event.Letter, event.Push}, Exemptions: []string{"VIP"}}),
		"account_closed": env("ev-8", &event.AccountClosed{Reason: "churn"}),
		"dispute_opened": env("ev-9", &event.DisputeOpened{DisputeID: "D-1", InvoiceID: "INV-1", Currency: "CLF",
			Amount: amt("-0.0001"), Reason: "roaming charge"}),
		"dispute_resolved": env("ev-10", &event.DisputeResolved{DisputeID: "D-1", Outcome: event.Withdrawn,
			CreditAmount: amt("99999999999.9999")}),
		"arrangement_created": env("ev-11", &event.ArrangementCreated{ArrangementID: "AR-1", Type: event.InstallmentPlan,
			Currency: "EUR", Installments: []event.Installment{{DueDate: d("2025-04-01"), Amount: amt("25")},
				{DueDate: d("2025-05-01"), Amount: amt("24.99")}}}),
		"arrangement_cancelled": env("ev-12", &event.ArrangementCancelled{ArrangementID: "AR-1", Reason: "missed"}),
		"hold":                  env("ev-13", &event.Hold{HoldID: "H-1", Until: t0.Add(72 * time.Hour), Reason: "complaint"}),
		"release":               env("ev-14", &event.Release{HoldID: "H-1"}),
		"clock_tick":            env("ev-15", &event.ClockTick{Partition: 7}),
		"account_reopened":      env("ev-16", &event.AccountReopened{Reason: "won back"}),
		"exemption_set": env("ev-17", &event.ExemptionSet{Exemption: "HARDSHIP", Until: t0.Add(30 * 24 * time.Hour),
			Reason: "job loss"}),
		"exemption_cleared": env("ev-18", &event.ExemptionCleared{Exemption: "VIP", Reason: "downgraded"}),
		"contact_preferences_changed": env("ev-19", &event.ContactPreferencesChanged{
			Consents: []event.Channel{event.Letter, event.Email}, Preferred: event.Email}),
		"cease_contact": env("ev-20", &event.CeaseContact{Active: true, Reason: "customer request"}),
		"call_logged": env("ev-21", &event.CallLogged{CallID: "CALL-1", Outcome: event.CallWrongNumber,
			Note: "number belongs to someone else"}),
		"callback_scheduled": env("ev-22", &event.CallbackScheduled{CallbackID: "CB-1", At: t0.Add(26 * time.Hour),
			Queue: "collections-2", Note: "after 6pm"}),
		"note_added": env("ev-23", &event.NoteAdded{NoteID: "N-1", Text: "Customer says the invoice went to the old address; ünïcode ok"}),
		"writeoff_requested": env("ev-24", &event.WriteOffRequested{WriteOffID: "WO-1", Currency: "EUR",
			Amount: amt("12.34"), Reason: "small balance"}),
		"agency_recalled": env("ev-25", &event.AgencyRecalled{AgencyID: "AG-1", Reason: "complaint"}),
		"agency_returned": env("ev-26", &event.AgencyReturned{AgencyID: "AG-1", Outcome: event.AgencyPartiallyRecovered,
			Reason: "partial settlement"}),
		"legal_case_updated": env("ev-27", &event.LegalCaseUpdated{CaseID: "LC-1", Status: event.LegalJudgement,
			Reference: "AG Berlin 12 C 345/25", Currency: "EUR", Amount: amt("1500"), Reason: "default judgement"}),
		"account_erased": env("ev-28", &event.AccountErased{Reason: "GDPR art. 17 request 42"}),
		"group_context": env("ev-29", &event.GroupContext{GroupID: "ACC-1", Version: 1 << 33, Accounts: 3, Suspended: 1,
			Exposure: []event.GroupExposure{{Currency: "EUR", Exposure: amt("300"), Disputed: amt("100")}},
			Due:      []event.GroupDue{{Currency: "EUR", DueDate: d("2025-03-01"), Amount: amt("200")}},
			Children: []event.GroupChildSummary{{ChildID: "a:ACC-1001", Due: []event.GroupDue{{Currency: "EUR",
				DueDate: d("2025-03-01"), Amount: amt("120.5")}}}, {ChildID: "g:ACC-2", Due: []event.GroupDue{{Currency: "EUR",
				DueDate: d("2025-03-01"), Amount: amt("79.5")}}}}}),
		"group_service_change": env("ev-30", &event.GroupServiceChange{Group: "ACC-1", CascadeID: "act-9", Suspend: true}),
		"group_conditions": env("ev-31", &event.GroupConditions{Group: "ACC-1", Version: 1 << 34, Conditions: []event.GroupCondition{
			{Name: "group_overdue_low", Rule: "overdue_share below 0.02", Below: true, Flip: d("2025-03-15")},
			{Name: "group_high_risk", Rule: "max_pd at least 0.5", Never: true}}}),
	}
}

func sampleAction() *event.DunningAction {
	return &event.DunningAction{
		ActionID: "act-1", Account: "ACC-1001", Time: t0, PolicyName: "postpaid-std", PolicyVersion: "9f2c",
		Stage: "reminder", Type: event.ActionNotify, Channel: event.SMS, Template: "reminder-1", Queue: "",
		Priority: 3, Currency: "EUR", OverdueAmount: event.MustAmount("120.50"), Amount: 0,
		OldestDueDate: d("2025-03-01"), DaysPastDue: 13, Invoices: []string{"INV-1", "INV-2"}, Reason: "dpd >= 11",
		Conditions:   []event.Condition{{Name: "days_past_due", Value: "13", Rule: ">= 11"}},
		ExperimentID: "EXP-2026-12", Arm: event.ArmChallenger,
	}
}

func sampleRisk() *event.RiskEvent {
	return &event.RiskEvent{EventID: "risk-1", Account: "ACC-1001", Time: t0, Score: 512, PD: 0.137, Tier: "HIGH",
		PreviousTier: "MEDIUM", Reasons: []event.ReasonCode{{Code: "LATE_PAYMENTS", Contribution: 0.8}, {Code: "TENURE", Contribution: -0.1}},
		ModelVersion: "sc-3"}
}

func sampleStatus() *event.AccountStatus {
	return &event.AccountStatus{Account: "ACC-1001", Time: t0, Segment: event.Postpaid, Closed: false,
		Balances: []event.CurrencyBalance{{Currency: "EUR", Open: event.MustAmount("200"), Overdue: event.MustAmount("120.5"),
			Disputed: event.MustAmount("10"), Unapplied: event.MustAmount("0.01"),
			Aging: [6]event.Amount{event.MustAmount("79.5"), event.MustAmount("120.5"), 0, 0, 0, 1}}},
		OpenItems: 2, OldestDueDate: d("2025-03-01"), DaysPastDue: 13, Stage: "reminder", ServiceState: "ACTIVE",
		RiskTier: "HIGH", PD: 0.137, Arrangement: "AR-1", OnHold: true, UnknownInvoiceRefs: 2, SourcePartition: 3, SourceOffset: 1 << 40,
		State: []byte{0, 1, 2, 0xff}, PolicyVersion: "9f2c", ExperimentID: "EXP-2026-12", Arm: event.ArmChampion, Blacklisted: true}
}

func sampleGL() *event.GLEntry {
	return &event.GLEntry{EntryID: "gl-1", Account: "ACC-1001", Time: t0, Kind: "WRITE_OFF", Currency: "EUR",
		Amount: event.MustAmount("99.99"), DebitAccount: "6800", CreditAccount: "1200", Reference: "act-9", Description: "bad debt"}
}

func sampleDeadLetter() *event.DeadLetter {
	return &event.DeadLetter{Reason: "payload.InvoiceIssued: missing required field amount", ErrorClass: "decode",
		Topic: "ar.events", Partition: 4, Offset: 99, Key: []byte("ACC-1001"), Value: []byte{0xc3, 0x01, 0xff}, Time: t0}
}
