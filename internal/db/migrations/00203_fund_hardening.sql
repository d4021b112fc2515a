-- +goose Up
-- Fund hardening (issue 8):
--   * real money (bank, cash drawers) never goes below zero;
--   * stored balances are written only by the posting trigger;
--   * simulated money (the sandbox provider) is marked on entries and proceeds;
--   * refunds record their write-off (loss beyond a line's fund share);
--   * fund side tables are append-only or guarded column by column;
--   * allocation rules are immutable once written;
--   * lots are consumed in database sequence order, not by the app's clock;
--   * residents' contributions to a rejected project can be refunded.

-- Real money cannot be negative: a bank account or a cash drawer cannot pay
-- out what it does not hold. A database whose bank or drawer is already
-- negative must be corrected by the treasurer before this migration runs; it
-- fails naming the accounts rather than hiding them.
-- +goose StatementBegin
DO $$
DECLARE bad text;
BEGIN
    SELECT string_agg(community_id || ' ' || kind || ':' || key || ' = ' || balance, '; ') INTO bad
      FROM ledger_accounts WHERE kind IN ('cash_drawer','bank') AND balance < 0;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'real-money accounts are negative, correct them first: %', bad;
    END IF;
END $$;
-- +goose StatementEnd
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_real_money_nonnegative
    CHECK (kind NOT IN ('cash_drawer','bank') OR balance >= 0);

-- Simulated money: entries that post to provider_clearing:sandbox, and the
-- proceeds whose money arrived there. Set at insert, never changed.
ALTER TABLE ledger_entries ADD COLUMN simulated boolean NOT NULL DEFAULT false;
ALTER TABLE fund_proceeds ADD COLUMN simulated boolean NOT NULL DEFAULT false;
-- Backfill once (the append-only trigger is lifted for this statement only).
ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only;
UPDATE ledger_entries e SET simulated = true
 WHERE EXISTS (SELECT 1 FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id
                WHERE p.entry_id = e.id AND a.kind = 'provider_clearing' AND a.key = 'sandbox');
ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only;
UPDATE fund_proceeds p SET simulated = true
  FROM ledger_accounts a WHERE a.id = p.debit_account AND a.kind = 'provider_clearing' AND a.key = 'sandbox';

-- Refund write-offs: the loss beyond the refunded line's fund share, debited
-- to fund_deficit (goods not returned: their cost stays payable).
ALTER TABLE fund_reversals ADD COLUMN write_off numeric(14,2) NOT NULL DEFAULT 0 CHECK (write_off >= 0);
ALTER TABLE fund_reversals ADD CONSTRAINT fund_reversals_write_off_bounded CHECK (net + write_off <= gross);

-- Lots are consumed first-in-first-out by database sequence.
DROP INDEX fund_lots_fifo;
CREATE INDEX fund_lots_fifo ON fund_lots (community_id, earmark, seq) WHERE remaining > 0;

-- A refund of residents' money given to a project that did not go ahead.
CREATE TABLE fund_contribution_refunds (
    contribution_id uuid PRIMARY KEY REFERENCES fund_contributions(id),
    community_id    uuid NOT NULL REFERENCES communities(id),
    project_id      uuid NOT NULL REFERENCES fund_projects(id),
    entry_id        uuid NOT NULL REFERENCES ledger_entries(id),
    amount          numeric(14,2) NOT NULL CHECK (amount > 0),
    refunded_by     uuid REFERENCES users(id),
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fund_contribution_refunds_project ON fund_contribution_refunds (project_id);

-- +goose StatementBegin
-- Balances are the posting trigger's alone: it runs at trigger depth 1 and
-- its UPDATE fires this trigger at depth 2. A direct UPDATE (depth 1) may not
-- change a balance, and no UPDATE may change what an account is.
CREATE FUNCTION ledger_accounts_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.balance <> 0 THEN
            RAISE EXCEPTION 'a new ledger account starts at zero; money enters it only by postings'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.id <> OLD.id OR NEW.community_id <> OLD.community_id OR NEW.kind <> OLD.kind OR NEW.key <> OLD.key
       OR NEW.created_at <> OLD.created_at THEN
        RAISE EXCEPTION 'ledger account % cannot be renamed or moved', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.balance <> OLD.balance AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'the balance of ledger account % is written only by postings', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;

-- Column guards of the fund side tables: what may change, and in which
-- direction. Everything else is refused.
CREATE FUNCTION fund_proceeds_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.entry_id, NEW.community_id, NEW.source_kind, NEW.source_id, NEW.source_ref, NEW.debit_account,
        NEW.gross, NEW.supplier_cost, NEW.maker_share, NEW.provider_fee, NEW.net, NEW.rules_version,
        NEW.trace_token, NEW.at, NEW.simulated)
       IS DISTINCT FROM
       (OLD.entry_id, OLD.community_id, OLD.source_kind, OLD.source_id, OLD.source_ref, OLD.debit_account,
        OLD.gross, OLD.supplier_cost, OLD.maker_share, OLD.provider_fee, OLD.net, OLD.rules_version,
        OLD.trace_token, OLD.at, OLD.simulated)
       OR NEW.reversed_gross < OLD.reversed_gross OR NEW.reversed_net < OLD.reversed_net THEN
        RAISE EXCEPTION 'fund_proceeds: only reversed_gross and reversed_net may change, and only upwards'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION fund_lots_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.id, NEW.seq, NEW.community_id, NEW.entry_id, NEW.earmark, NEW.source_kind, NEW.source_id, NEW.original, NEW.at)
       IS DISTINCT FROM
       (OLD.id, OLD.seq, OLD.community_id, OLD.entry_id, OLD.earmark, OLD.source_kind, OLD.source_id, OLD.original, OLD.at)
       OR NEW.remaining > OLD.remaining OR NEW.allocated < OLD.allocated
       OR NEW.reversed < OLD.reversed OR NEW.deficit < OLD.deficit THEN
        RAISE EXCEPTION 'fund_lots: only remaining (down), allocated, reversed and deficit (up) may change'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION fund_disbursements_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.id, NEW.community_id, NEW.project_id, NEW.entry_id, NEW.amount, NEW.payee, NEW.memo, NEW.created_by, NEW.at)
       IS DISTINCT FROM
       (OLD.id, OLD.community_id, OLD.project_id, OLD.entry_id, OLD.amount, OLD.payee, OLD.memo, OLD.created_by, OLD.at) THEN
        RAISE EXCEPTION 'fund_disbursements: only the voucher may change' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;

-- A rule version's earmarks are written with the version, in one
-- transaction; a later transaction cannot add to an old version.
CREATE FUNCTION fund_rule_earmarks_same_tx() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM fund_rule_sets s WHERE s.community_id = NEW.community_id AND s.version = NEW.version
                     AND s.created_at = now()) THEN
        RAISE EXCEPTION 'rules version % is closed: earmarks are written with their version', NEW.version
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd

CREATE TRIGGER ledger_accounts_guard BEFORE INSERT OR UPDATE ON ledger_accounts
    FOR EACH ROW EXECUTE FUNCTION ledger_accounts_guard();

CREATE TRIGGER fund_proceeds_guard BEFORE UPDATE ON fund_proceeds
    FOR EACH ROW EXECUTE FUNCTION fund_proceeds_guard();
CREATE TRIGGER fund_lots_guard BEFORE UPDATE ON fund_lots
    FOR EACH ROW EXECUTE FUNCTION fund_lots_guard();
CREATE TRIGGER fund_disbursements_guard BEFORE UPDATE ON fund_disbursements
    FOR EACH ROW EXECUTE FUNCTION fund_disbursements_guard();

-- No DELETE of any fund record; no UPDATE of the append-only ones.
CREATE TRIGGER fund_proceeds_no_delete BEFORE DELETE ON fund_proceeds
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER fund_lots_no_delete BEFORE DELETE ON fund_lots
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER fund_disbursements_no_delete BEFORE DELETE ON fund_disbursements
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER fund_reversals_append_only BEFORE UPDATE OR DELETE ON fund_reversals
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER fund_contributions_append_only BEFORE UPDATE OR DELETE ON fund_contributions
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER fund_contribution_refunds_append_only BEFORE UPDATE OR DELETE ON fund_contribution_refunds
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER fund_rule_sets_immutable BEFORE UPDATE OR DELETE ON fund_rule_sets
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER fund_rule_earmarks_immutable BEFORE UPDATE OR DELETE ON fund_rule_earmarks
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER fund_rule_earmarks_same_tx BEFORE INSERT ON fund_rule_earmarks
    FOR EACH ROW EXECUTE FUNCTION fund_rule_earmarks_same_tx();

-- No TRUNCATE of any of them.
CREATE TRIGGER fund_proceeds_no_truncate BEFORE TRUNCATE ON fund_proceeds
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER fund_lots_no_truncate BEFORE TRUNCATE ON fund_lots
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER fund_reversals_no_truncate BEFORE TRUNCATE ON fund_reversals
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER fund_contributions_no_truncate BEFORE TRUNCATE ON fund_contributions
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER fund_contribution_refunds_no_truncate BEFORE TRUNCATE ON fund_contribution_refunds
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER fund_disbursements_no_truncate BEFORE TRUNCATE ON fund_disbursements
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER fund_lot_allocations_no_truncate BEFORE TRUNCATE ON fund_lot_allocations
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER fund_rule_sets_no_truncate BEFORE TRUNCATE ON fund_rule_sets
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER fund_rule_earmarks_no_truncate BEFORE TRUNCATE ON fund_rule_earmarks
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- +goose Down
SELECT 1;
