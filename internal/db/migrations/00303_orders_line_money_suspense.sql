-- +goose Up

-- Money is kept per line (DESIGN.md "Money flow of a sale" 5). At sale time
-- each line stores what it brought in after the sale's discount (spread over
-- lines by largest remainder), its cost, its maker's share (on the amount
-- actually paid), its share of the provider fee and its fund share; the
-- parts sum to the line exactly. Refunds reverse exactly the refunded units.
ALTER TABLE order_lines ADD COLUMN net_amount  numeric(14,2);
ALTER TABLE order_lines ADD COLUMN cost_amount numeric(14,2);
ALTER TABLE order_lines ADD COLUMN fee_amount  numeric(14,2);
ALTER TABLE order_lines ADD COLUMN fund_amount numeric(14,2);
-- Lines sold before this migration: the discount goes proportionally, the
-- rounding rest onto the last line.
WITH l AS (
    SELECT ol.id, ol.amount, ol.line_no, o.total, o.subtotal,
           CASE WHEN o.subtotal > 0 THEN round(ol.amount * o.total / o.subtotal, 2) ELSE 0 END AS share,
           max(ol.line_no) OVER (PARTITION BY ol.order_id) AS last_no,
           sum(CASE WHEN o.subtotal > 0 THEN round(ol.amount * o.total / o.subtotal, 2) ELSE 0 END) OVER (PARTITION BY ol.order_id) AS shares
    FROM order_lines ol JOIN orders o ON o.id = ol.order_id
)
UPDATE order_lines ol SET net_amount = CASE WHEN l.line_no = l.last_no THEN l.share + (l.total - l.shares) ELSE l.share END
FROM l WHERE l.id = ol.id;
UPDATE order_lines SET cost_amount = unit_cost * qty, fee_amount = 0;
UPDATE order_lines SET maker_share = LEAST(maker_share, GREATEST(net_amount - cost_amount, 0));
UPDATE order_lines SET fund_amount = net_amount - cost_amount - maker_share - fee_amount;
ALTER TABLE order_lines ALTER COLUMN net_amount SET NOT NULL;
ALTER TABLE order_lines ALTER COLUMN cost_amount SET NOT NULL;
ALTER TABLE order_lines ALTER COLUMN fee_amount SET NOT NULL;
ALTER TABLE order_lines ALTER COLUMN fund_amount SET NOT NULL;
ALTER TABLE order_lines ADD CONSTRAINT order_lines_money_adds_up
    CHECK (net_amount = cost_amount + maker_share + fee_amount + fund_amount);
ALTER TABLE order_lines ADD CONSTRAINT order_lines_cost CHECK (cost_amount = unit_cost * qty);
ALTER TABLE order_lines ADD CONSTRAINT order_lines_parts_not_negative
    CHECK (net_amount >= 0 AND net_amount <= amount AND fee_amount >= 0 AND fund_amount >= 0) NOT VALID;
ALTER TABLE order_lines ADD CONSTRAINT order_lines_maker_share_within CHECK (maker_share >= 0 AND maker_share <= net_amount);

-- What each refunded line gave back, part by part. restocked units return
-- cost and maker's share; units that do not return leave them payable and
-- take the loss from the line's fund share, then write it off.
ALTER TABLE refund_lines ADD COLUMN cost      numeric(14,2) NOT NULL DEFAULT 0 CHECK (cost >= 0);
ALTER TABLE refund_lines ADD COLUMN maker     numeric(14,2) NOT NULL DEFAULT 0 CHECK (maker >= 0);
ALTER TABLE refund_lines ADD COLUMN fee       numeric(14,2) NOT NULL DEFAULT 0 CHECK (fee >= 0);
ALTER TABLE refund_lines ADD COLUMN fund      numeric(14,2) NOT NULL DEFAULT 0 CHECK (fund >= 0);
ALTER TABLE refund_lines ADD COLUMN write_off numeric(14,2) NOT NULL DEFAULT 0 CHECK (write_off >= 0);
ALTER TABLE refund_lines ADD CONSTRAINT refund_lines_adds_up CHECK (amount = cost + maker + fee + fund + write_off) NOT VALID;

-- A payment can be held: the money arrived but could not complete its sale
-- (late, cancelled, expired, wrong amount, stock gone). It is booked to
-- suspense (customer refunds payable) until the treasurer refunds it or
-- completes the sale.
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
    CHECK (status IN ('pending','succeeded','held','failed','expired','cancelled'));

CREATE TABLE payment_suspense (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id  uuid NOT NULL REFERENCES communities(id),
    payment_id    uuid NOT NULL UNIQUE REFERENCES payments(id),
    order_id      uuid NOT NULL REFERENCES orders(id),
    amount        numeric(14,2) NOT NULL CHECK (amount > 0),
    reason        text NOT NULL CHECK (reason IN ('amount_mismatch','after_expired','after_cancelled','stock_released')),
    detail        text NOT NULL DEFAULT '',
    provider_txn  text NOT NULL DEFAULT '',
    status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open','refunding','refunded','completed')),
    resolved_by   uuid REFERENCES users(id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    resolved_at   timestamptz,
    CHECK ((status IN ('refunded','completed')) = (resolved_at IS NOT NULL))
);
CREATE INDEX payment_suspense_open ON payment_suspense (community_id) WHERE status IN ('open','refunding');
-- The payment row of a held payment says so.
-- (payment_suspense.payment_id is unique: one hold per payment.)

-- Refunds through a provider are an outbox: the refund row (its id is the
-- out_refund_no) is written with the money owed to the customer, the
-- provider is called by a durable job outside any transaction, and its
-- answer is booked afterwards.
ALTER TABLE refunds DROP CONSTRAINT refunds_status_check;
ALTER TABLE refunds ADD CONSTRAINT refunds_status_check CHECK (status IN ('pending','succeeded','failed'));
ALTER TABLE refunds ADD COLUMN attempts    integer NOT NULL DEFAULT 0 CHECK (attempts >= 0);
ALTER TABLE refunds ADD COLUMN last_error  text NOT NULL DEFAULT '';
ALTER TABLE refunds ADD COLUMN finished_at timestamptz;
CREATE INDEX refunds_pending ON refunds (created_at) WHERE status = 'pending';

-- Refunds of held money (suspense) go through the same outbox.
CREATE TABLE suspense_refunds (
    suspense_id  uuid PRIMARY KEY REFERENCES payment_suspense(id),
    community_id uuid NOT NULL REFERENCES communities(id),
    status       text NOT NULL CHECK (status IN ('pending','succeeded','failed')),
    provider_ref text NOT NULL DEFAULT '',
    last_error   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);

-- The sandbox wallet's refunds, keyed by Shelin's refund id (out_refund_no):
-- asking twice refunds once.
CREATE TABLE sandbox_refunds (
    refund_id    text PRIMARY KEY CHECK (length(refund_id) BETWEEN 1 AND 64),
    merchant_ref text NOT NULL,
    amount       numeric(14,2) NOT NULL CHECK (amount > 0),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- +goose StatementBegin
-- A paid order without its proceeds is impossible: at commit, every order
-- that is paid (with a positive total) has exactly one proceeds entry whose
-- gross is its total, and its payment succeeded.
CREATE FUNCTION orders_paid_has_proceeds() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'paid' THEN
        RETURN NULL;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = NEW.id AND p.status = 'succeeded') THEN
        RAISE EXCEPTION 'order % is paid but its payment has not succeeded', NEW.number
            USING ERRCODE = 'check_violation', CONSTRAINT = 'orders_paid_has_proceeds';
    END IF;
    IF NEW.total > 0 AND NOT EXISTS (SELECT 1 FROM fund_proceeds fp
            WHERE fp.community_id = NEW.community_id AND fp.source_kind IN ('sale','groupbuy')
              AND fp.source_id = NEW.id::text AND fp.gross = NEW.total) THEN
        RAISE EXCEPTION 'order % is paid but has no proceeds entry of %', NEW.number, NEW.total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'orders_paid_has_proceeds';
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE CONSTRAINT TRIGGER orders_paid_has_proceeds AFTER INSERT OR UPDATE OF status, total ON orders
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION orders_paid_has_proceeds();

-- +goose Down
SELECT 1;
