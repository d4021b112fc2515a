-- +goose Up
-- The governance fund: a double-entry ledger per community, allocation rules,
-- fund lots tied to their sources, and co-funded projects.

-- Allocation rules, versioned per community. Version 0 (no row) means
-- "general 100%".
CREATE TABLE fund_rule_sets (
    community_id uuid NOT NULL REFERENCES communities(id),
    version      integer NOT NULL CHECK (version >= 1),
    created_by   uuid REFERENCES users(id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (community_id, version)
);

CREATE TABLE fund_rule_earmarks (
    community_id uuid NOT NULL,
    version      integer NOT NULL,
    position     integer NOT NULL CHECK (position >= 0),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 40),
    percent      numeric(5,2) NOT NULL CHECK (percent > 0 AND percent <= 100),
    PRIMARY KEY (community_id, version, name),
    UNIQUE (community_id, version, position),
    FOREIGN KEY (community_id, version) REFERENCES fund_rule_sets (community_id, version)
);

-- +goose StatementBegin
CREATE FUNCTION fund_rules_sum_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE s numeric;
BEGIN
    SELECT COALESCE(sum(percent), 0) INTO s FROM fund_rule_earmarks
     WHERE community_id = NEW.community_id AND version = NEW.version;
    IF s <> 100 THEN
        RAISE EXCEPTION 'fund rules version % of community % sum to % percent, not 100', NEW.version, NEW.community_id, s
            USING ERRCODE = 'check_violation', CONSTRAINT = 'fund_rules_sum_100';
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE CONSTRAINT TRIGGER fund_rules_sum_100 AFTER INSERT ON fund_rule_sets
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fund_rules_sum_check();

CREATE TABLE ledger_accounts (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id uuid NOT NULL REFERENCES communities(id),
    kind         text NOT NULL CHECK (kind IN ('cash_drawer','provider_clearing','bank','groupbuy_escrow',
                     'supplier_payable','maker_payable','provider_fees','fund_earmark','project',
                     'contributions','fund_deficit')),
    key          text NOT NULL DEFAULT '',
    -- Stored balance = sum of postings (debit positive). Fund money and a
    -- project's money are credits: they can never turn into a debit balance.
    balance      numeric(14,2) NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (community_id, kind, key),
    CONSTRAINT ledger_accounts_no_overdraw CHECK (kind NOT IN ('fund_earmark','project') OR balance <= 0)
);

CREATE TABLE ledger_entries (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    community_id  uuid NOT NULL REFERENCES communities(id),
    kind          text NOT NULL CHECK (kind IN ('proceeds','reversal','commitment','contribution','disbursement','transfer')),
    source_kind   text NOT NULL DEFAULT '',
    source_id     text NOT NULL DEFAULT '',
    source_ref    text NOT NULL DEFAULT '',
    memo          text NOT NULL DEFAULT '',
    rules_version integer CHECK (rules_version >= 0),
    at            timestamptz NOT NULL DEFAULT now(),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'proceeds') = (rules_version IS NOT NULL))
);
CREATE INDEX ledger_entries_community_at ON ledger_entries (community_id, at, seq);
CREATE INDEX ledger_entries_community_seq ON ledger_entries (community_id, seq);
CREATE UNIQUE INDEX ledger_entries_one_per_source ON ledger_entries (community_id, source_kind, source_id)
    WHERE kind = 'proceeds';
CREATE UNIQUE INDEX ledger_entries_one_transfer ON ledger_entries (community_id, source_kind, source_id)
    WHERE kind = 'transfer';
CREATE INDEX ledger_entries_source ON ledger_entries (community_id, source_kind, source_id);

CREATE TABLE ledger_postings (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry_id   uuid NOT NULL REFERENCES ledger_entries(id),
    -- No foreign key here: the balance trigger below proves the account
    -- exists (and belongs to the entry's community) while it updates it, and
    -- accounts are never deleted; a foreign key would add a KEY SHARE lock on
    -- the hottest rows of the database.
    account_id uuid NOT NULL,
    amount     numeric(14,2) NOT NULL CHECK (amount <> 0)
);
CREATE INDEX ledger_postings_entry ON ledger_postings (entry_id);
CREATE INDEX ledger_postings_account ON ledger_postings (account_id);

-- +goose StatementBegin
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % is refused; post a reversal entry instead', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

-- Keeps the stored balance equal to the sum of postings, in the same
-- transaction. A posting must belong to an entry written by the same
-- transaction (entries are closed once committed) and to an account of the
-- entry's community.
-- (An entry's created_at is its transaction's start, now(): equal only
-- within the transaction that wrote it, savepoints included.)
CREATE FUNCTION ledger_posting_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE c uuid; t timestamptz;
BEGIN
    SELECT e.community_id, e.created_at INTO c, t FROM ledger_entries e WHERE e.id = NEW.entry_id;
    IF t IS DISTINCT FROM now() THEN
        RAISE EXCEPTION 'ledger entry % is closed: postings are written with their entry, in one transaction', NEW.entry_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entry_closed';
    END IF;
    UPDATE ledger_accounts SET balance = balance + NEW.amount
     WHERE id = NEW.account_id AND community_id = c;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'posting of entry % to account % of another community', NEW.entry_id, NEW.account_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_posting_same_community';
    END IF;
    RETURN NULL;
END $$;

-- Every entry balances to zero, with at least two postings: checked at
-- commit for each entry written in the transaction.
CREATE FUNCTION ledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE s numeric; n integer;
BEGIN
    SELECT COALESCE(sum(p.amount), 0), count(*) INTO s, n FROM ledger_postings p WHERE p.entry_id = NEW.id;
    IF s <> 0 OR n < 2 THEN
        RAISE EXCEPTION 'ledger entry % does not balance: % postings sum to %', NEW.id, n, s
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entry_balanced';
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_postings_append_only BEFORE UPDATE OR DELETE ON ledger_postings
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_postings_no_truncate BEFORE TRUNCATE ON ledger_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_accounts_never_deleted BEFORE DELETE ON ledger_accounts
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_accounts_no_truncate BEFORE TRUNCATE ON ledger_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_postings_apply AFTER INSERT ON ledger_postings
    FOR EACH ROW EXECUTE FUNCTION ledger_posting_apply();
CREATE CONSTRAINT TRIGGER ledger_entry_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_balanced();

-- One row per posted source (sale, group-buy, donation): the amounts of its
-- entry and what refunds have reversed so far.
CREATE TABLE fund_proceeds (
    entry_id       uuid PRIMARY KEY REFERENCES ledger_entries(id) DEFERRABLE INITIALLY DEFERRED,
    community_id   uuid NOT NULL REFERENCES communities(id),
    source_kind    text NOT NULL CHECK (source_kind IN ('sale','groupbuy','donation')),
    source_id      text NOT NULL CHECK (length(source_id) BETWEEN 1 AND 200),
    source_ref     text NOT NULL DEFAULT '',
    debit_account  uuid NOT NULL, -- a ledger_accounts id (see ledger_postings.account_id)
    gross          numeric(14,2) NOT NULL CHECK (gross >= 0),
    supplier_cost  numeric(14,2) NOT NULL CHECK (supplier_cost >= 0),
    maker_share    numeric(14,2) NOT NULL CHECK (maker_share >= 0),
    provider_fee   numeric(14,2) NOT NULL CHECK (provider_fee >= 0),
    net            numeric(14,2) NOT NULL CHECK (net >= 0),
    rules_version  integer NOT NULL CHECK (rules_version >= 0),
    -- unguessable (128 bits) public token of the "where did my money go" page
    trace_token    text NOT NULL UNIQUE CHECK (length(trace_token) = 32),
    reversed_gross numeric(14,2) NOT NULL DEFAULT 0 CHECK (reversed_gross >= 0 AND reversed_gross <= gross),
    reversed_net   numeric(14,2) NOT NULL DEFAULT 0 CHECK (reversed_net >= 0 AND reversed_net <= net),
    at             timestamptz NOT NULL,
    CONSTRAINT fund_proceeds_adds_up CHECK (net = gross - supplier_cost - maker_share - provider_fee),
    CONSTRAINT fund_proceeds_one_per_source UNIQUE (community_id, source_kind, source_id)
);

-- Each fund credit is a lot. original = remaining + allocated + reversed;
-- deficit is what refunds took back after the money had been committed.
CREATE TABLE fund_lots (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    community_id uuid NOT NULL REFERENCES communities(id),
    entry_id     uuid NOT NULL REFERENCES fund_proceeds(entry_id),
    earmark      text NOT NULL,
    source_kind  text NOT NULL,
    source_id    text NOT NULL,
    original     numeric(14,2) NOT NULL CHECK (original > 0),
    remaining    numeric(14,2) NOT NULL CHECK (remaining >= 0),
    allocated    numeric(14,2) NOT NULL DEFAULT 0 CHECK (allocated >= 0),
    reversed     numeric(14,2) NOT NULL DEFAULT 0 CHECK (reversed >= 0),
    deficit      numeric(14,2) NOT NULL DEFAULT 0 CHECK (deficit >= 0),
    at           timestamptz NOT NULL,
    CONSTRAINT fund_lots_conserved CHECK (original = remaining + allocated + reversed),
    CONSTRAINT fund_lots_deficit_bounded CHECK (reversed + deficit <= original),
    UNIQUE (entry_id, earmark)
);
-- FIFO per community and earmark, only lots with money left.
CREATE INDEX fund_lots_fifo ON fund_lots (community_id, earmark, at, seq) WHERE remaining > 0;
CREATE INDEX fund_lots_community ON fund_lots (community_id, at);

-- Refunds: one row per reversal id; parts records what was taken back per
-- original credit posting (amount includes deficit, the part that had already
-- been committed to projects and is recorded on the fund_deficit account).
CREATE TABLE fund_reversals (
    entry_id          uuid PRIMARY KEY REFERENCES ledger_entries(id) DEFERRABLE INITIALLY DEFERRED,
    community_id      uuid NOT NULL REFERENCES communities(id),
    proceeds_entry_id uuid NOT NULL REFERENCES fund_proceeds(entry_id),
    reversal_id       text NOT NULL CHECK (length(reversal_id) BETWEEN 1 AND 200),
    gross             numeric(14,2) NOT NULL CHECK (gross > 0),
    net               numeric(14,2) NOT NULL CHECK (net >= 0),
    deficit           numeric(14,2) NOT NULL CHECK (deficit >= 0 AND deficit <= net),
    parts             jsonb NOT NULL,
    at                timestamptz NOT NULL,
    CONSTRAINT fund_reversals_once UNIQUE (community_id, reversal_id)
);
CREATE INDEX fund_reversals_proceeds ON fund_reversals (proceeds_entry_id);

CREATE TABLE fund_projects (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id        uuid NOT NULL REFERENCES communities(id),
    micro_grid_id       uuid REFERENCES micro_grids(id),
    title               text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description         text NOT NULL DEFAULT '',
    purpose             text NOT NULL DEFAULT 'general',
    budget              numeric(14,2) NOT NULL CHECK (budget > 0),
    fund_share          numeric(14,2) NOT NULL CHECK (fund_share >= 0 AND fund_share <= budget),
    status              text NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed','approved','funded','completed','rejected')),
    fund_committed      numeric(14,2) NOT NULL DEFAULT 0 CHECK (fund_committed >= 0 AND fund_committed <= fund_share),
    crowdfunded         numeric(14,2) NOT NULL DEFAULT 0 CHECK (crowdfunded >= 0),
    disbursed           numeric(14,2) NOT NULL DEFAULT 0 CHECK (disbursed >= 0),
    residents_benefited integer CHECK (residents_benefited >= 0),
    proposed_by         uuid REFERENCES users(id),
    approved_by         uuid REFERENCES users(id),
    approved_at         timestamptz,
    completed_at        timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT fund_projects_no_overdraw CHECK (disbursed <= fund_committed + crowdfunded),
    CHECK ((status = 'completed') = (completed_at IS NOT NULL)),
    CHECK (status NOT IN ('approved','funded','completed') OR (approved_at IS NOT NULL AND fund_committed = fund_share))
);
CREATE INDEX fund_projects_community ON fund_projects (community_id, created_at);

CREATE TABLE fund_lot_allocations (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    community_id uuid NOT NULL REFERENCES communities(id),
    lot_id       uuid NOT NULL REFERENCES fund_lots(id),
    project_id   uuid NOT NULL REFERENCES fund_projects(id),
    entry_id     uuid NOT NULL REFERENCES ledger_entries(id),
    amount       numeric(14,2) NOT NULL CHECK (amount > 0),
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fund_lot_allocations_lot ON fund_lot_allocations (lot_id);
CREATE INDEX fund_lot_allocations_project ON fund_lot_allocations (project_id);
CREATE INDEX fund_lot_allocations_community ON fund_lot_allocations (community_id, at);
CREATE TRIGGER fund_lot_allocations_append_only BEFORE UPDATE OR DELETE ON fund_lot_allocations
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

CREATE TABLE fund_contributions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id uuid NOT NULL REFERENCES communities(id),
    project_id   uuid NOT NULL REFERENCES fund_projects(id),
    entry_id     uuid NOT NULL REFERENCES ledger_entries(id),
    amount       numeric(14,2) NOT NULL CHECK (amount > 0),
    method       text NOT NULL CHECK (method IN ('cash','qr')),
    contributor  text NOT NULL DEFAULT '',
    receipt_no   text NOT NULL,
    collected_by uuid REFERENCES users(id),
    at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (community_id, receipt_no)
);
CREATE INDEX fund_contributions_project ON fund_contributions (project_id);

CREATE TABLE fund_disbursements (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id uuid NOT NULL REFERENCES communities(id),
    project_id   uuid NOT NULL REFERENCES fund_projects(id),
    entry_id     uuid NOT NULL REFERENCES ledger_entries(id),
    amount       numeric(14,2) NOT NULL CHECK (amount > 0),
    payee        text NOT NULL CHECK (length(payee) BETWEEN 1 AND 200),
    memo         text NOT NULL DEFAULT '',
    voucher      bytea,
    voucher_type text NOT NULL DEFAULT '',
    created_by   uuid REFERENCES users(id),
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fund_disbursements_project ON fund_disbursements (project_id);

-- +goose Down
SELECT 1;
