-- +goose Up
-- The treasurer's day (package reconcile): provider statements and their
-- rows matched against payments and refunds, what a statement settled to the
-- bank, resolutions of the day's issues, closed days, and the hash-chained
-- Z-reports.

-- A business day (community time zone) that has been closed at least once.
-- No row, or status 'open': the day is open.
CREATE TABLE reconcile_days (
    community_id uuid NOT NULL REFERENCES communities(id),
    day          date NOT NULL,
    status       text NOT NULL CHECK (status IN ('open','closed')),
    closed_by    uuid REFERENCES users(id),
    closed_at    timestamptz,
    PRIMARY KEY (community_id, day),
    CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);

-- Every close and reopen, with who and why (a reopen needs a reason).
CREATE TABLE reconcile_day_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    community_id uuid NOT NULL REFERENCES communities(id),
    day          date NOT NULL,
    action       text NOT NULL CHECK (action IN ('closed','reopened')),
    reason       text NOT NULL DEFAULT '',
    by_user      uuid REFERENCES users(id),
    at           timestamptz NOT NULL DEFAULT now(),
    CHECK (action <> 'reopened' OR length(reason) BETWEEN 3 AND 500)
);
CREATE INDEX reconcile_day_events_day ON reconcile_day_events (community_id, day);

CREATE TABLE reconcile_statements (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id   uuid NOT NULL REFERENCES communities(id),
    provider       text NOT NULL CHECK (provider IN ('wechatpay','alipay','sandbox')),
    day            date NOT NULL,
    filename       text NOT NULL DEFAULT '',
    sha256         text NOT NULL CHECK (length(sha256) = 64),
    rows           integer NOT NULL CHECK (rows >= 0),
    payments_total numeric(14,2) NOT NULL,
    refunds_total  numeric(14,2) NOT NULL,
    fees_total     numeric(14,2) NOT NULL,
    uploaded_by    uuid REFERENCES users(id),
    uploaded_at    timestamptz NOT NULL DEFAULT now(),
    -- a later upload of the same provider and day replaces this one
    superseded_by  uuid REFERENCES reconcile_statements(id) DEFERRABLE INITIALLY DEFERRED,
    UNIQUE (community_id, provider, sha256)
);
CREATE UNIQUE INDEX reconcile_statements_current ON reconcile_statements (community_id, provider, day) WHERE superseded_by IS NULL;

-- One row per transaction line of a statement (payments and refunds are
-- separate rows), with what matching found.
CREATE TABLE reconcile_statement_rows (
    statement_id uuid NOT NULL REFERENCES reconcile_statements(id),
    line_no      integer NOT NULL CHECK (line_no > 0),
    community_id uuid NOT NULL REFERENCES communities(id),
    kind         text NOT NULL CHECK (kind IN ('payment','refund')),
    merchant_ref text NOT NULL DEFAULT '',
    refund_no    text NOT NULL DEFAULT '',
    txn_id       text NOT NULL DEFAULT '',
    amount       numeric(14,2) NOT NULL CHECK (amount >= 0),
    fee          numeric(14,2) NOT NULL,
    at           timestamptz,
    result       text NOT NULL CHECK (result IN ('matched','missing_in_shelin','amount_mismatch','static_matched')),
    expected     numeric(14,2),          -- Shelin's amount when it differs
    payment_id   uuid REFERENCES payments(id),
    refund_id    text,                   -- refunds.id or payment_suspense.id (the out_refund_no)
    clearing     text NOT NULL DEFAULT '', -- the provider clearing account the matched money sits in
    est_fee      numeric(14,2) NOT NULL DEFAULT 0, -- Shelin's fee estimate for the matched item
    PRIMARY KEY (statement_id, line_no)
);
CREATE INDEX reconcile_statement_rows_payment ON reconcile_statement_rows (payment_id) WHERE payment_id IS NOT NULL;
CREATE INDEX reconcile_statement_rows_refund ON reconcile_statement_rows (refund_id) WHERE refund_id IS NOT NULL;

-- Each payment and refund is settled to the bank once, by the statement
-- that matched it.
CREATE TABLE reconcile_settled (
    community_id uuid NOT NULL REFERENCES communities(id),
    item_kind    text NOT NULL CHECK (item_kind IN ('payment','refund')),
    item_id      text NOT NULL,
    statement_id uuid NOT NULL REFERENCES reconcile_statements(id),
    batch_id     uuid NOT NULL,
    clearing     text NOT NULL, -- provider clearing key credited
    amount       numeric(14,2) NOT NULL,
    fee          numeric(14,2) NOT NULL,
    est_fee      numeric(14,2) NOT NULL,
    at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (community_id, item_kind, item_id)
);
CREATE INDEX reconcile_settled_batch ON reconcile_settled (batch_id);

-- The treasurer's word on one issue of a day.
CREATE TABLE reconcile_resolutions (
    community_id uuid NOT NULL REFERENCES communities(id),
    day          date NOT NULL,
    issue_key    text NOT NULL CHECK (length(issue_key) BETWEEN 1 AND 200),
    action       text NOT NULL CHECK (action IN ('resolved','acknowledged')),
    note         text NOT NULL CHECK (length(note) BETWEEN 1 AND 1000),
    adjustment   numeric(14,2),
    account      text NOT NULL DEFAULT '',
    entry_id     uuid REFERENCES ledger_entries(id),
    by_user      uuid REFERENCES users(id),
    at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (community_id, day, issue_key)
);

-- Z-reports: immutable, one per close, each carrying the hash of the
-- community's previous one, so a changed past report breaks the chain.
CREATE TABLE reconcile_zreports (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    community_id uuid NOT NULL REFERENCES communities(id),
    day          date NOT NULL,
    version      integer NOT NULL CHECK (version >= 1),
    prev_hash    text NOT NULL,
    hash         text NOT NULL UNIQUE CHECK (length(hash) = 64),
    body         text NOT NULL,
    created_by   uuid REFERENCES users(id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (community_id, day, version)
);

-- +goose StatementBegin
CREATE FUNCTION reconcile_zreports_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'Z-reports are immutable: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

-- The business day of a moment in a community's time zone.
CREATE FUNCTION reconcile_business_day(c uuid, t timestamptz) RETURNS date LANGUAGE sql STABLE AS $$
    SELECT (t AT TIME ZONE COALESCE((SELECT timezone FROM communities WHERE id = c), 'Asia/Shanghai'))::date
$$;

-- Refuses a write dated a closed business day. SQLSTATE SH409 is mapped to
-- the error code day_closed (HTTP 409).
CREATE FUNCTION reconcile_refuse_closed_day() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE d date;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM reconcile_days WHERE community_id = NEW.community_id AND status = 'closed') THEN
        RETURN NEW;
    END IF;
    IF TG_TABLE_NAME = 'orders' THEN
        d := NEW.business_day;
    ELSIF TG_TABLE_NAME = 'refunds' THEN
        d := reconcile_business_day(NEW.community_id, NEW.created_at);
    ELSIF TG_TABLE_NAME = 'ledger_entries' THEN
        d := reconcile_business_day(NEW.community_id, NEW.at);
    ELSIF TG_TABLE_NAME = 'pos_shifts' THEN
        IF TG_OP = 'UPDATE' THEN
            d := reconcile_business_day(NEW.community_id, COALESCE(NEW.closed_at, now()));
        ELSE
            d := reconcile_business_day(NEW.community_id, NEW.opened_at);
        END IF;
    ELSE
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM reconcile_days WHERE community_id = NEW.community_id AND day = d AND status = 'closed') THEN
        RAISE EXCEPTION 'day_closed: business day % is closed', d
            USING ERRCODE = 'SH409', HINT = d::text;
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd

CREATE TRIGGER reconcile_zreports_no_update BEFORE UPDATE OR DELETE ON reconcile_zreports
    FOR EACH ROW EXECUTE FUNCTION reconcile_zreports_immutable();
CREATE TRIGGER reconcile_zreports_no_truncate BEFORE TRUNCATE ON reconcile_zreports
    FOR EACH STATEMENT EXECUTE FUNCTION reconcile_zreports_immutable();

CREATE TRIGGER orders_day_closed BEFORE INSERT ON orders
    FOR EACH ROW EXECUTE FUNCTION reconcile_refuse_closed_day();
CREATE TRIGGER refunds_day_closed BEFORE INSERT ON refunds
    FOR EACH ROW EXECUTE FUNCTION reconcile_refuse_closed_day();
CREATE TRIGGER ledger_entries_day_closed BEFORE INSERT ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION reconcile_refuse_closed_day();
CREATE TRIGGER pos_shifts_day_closed BEFORE INSERT OR UPDATE OF closed_at ON pos_shifts
    FOR EACH ROW EXECUTE FUNCTION reconcile_refuse_closed_day();

-- +goose Down
SELECT 1;
