-- Champion/challenger experiments (issue 14 item 2, docs/policies.md
-- "Experiments"): every dunning action and status row carries the
-- experiment the account is assigned in and its arm ('champion' or
-- 'challenger'; '' outside experiments); the status also carries the
-- version of the policy that governs the account and the CRM blacklist
-- flag. Rows landed before this migration read the defaults. ClickHouse
-- 18.16 has no ADD COLUMN IF NOT EXISTS: one column per statement, and
-- Migrate takes "column already exists" for done.
ALTER TABLE {db}.dunning_actions ADD COLUMN experiment_id String DEFAULT '' AFTER cond_rules;
ALTER TABLE {db}.dunning_actions ADD COLUMN arm String DEFAULT '' AFTER experiment_id;
ALTER TABLE {db}.account_status ADD COLUMN policy_version String DEFAULT '' AFTER on_hold;
ALTER TABLE {db}.account_status ADD COLUMN experiment_id String DEFAULT '' AFTER policy_version;
ALTER TABLE {db}.account_status ADD COLUMN arm String DEFAULT '' AFTER experiment_id;
ALTER TABLE {db}.account_status ADD COLUMN blacklisted UInt8 DEFAULT 0 AFTER arm;
