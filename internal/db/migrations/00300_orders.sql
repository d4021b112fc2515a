-- +goose Up

-- One counter row per community and business day gives order numbers that
-- are short enough to read out at a stall, unique across tablets and never
-- reused (the counter only grows; a rolled-back checkout rolls it back too).
CREATE TABLE order_number_counters (
    community_id uuid    NOT NULL REFERENCES communities(id),
    day          date    NOT NULL,
    last         integer NOT NULL CHECK (last >= 0),
    PRIMARY KEY (community_id, day)
);

CREATE TABLE orders (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id    uuid NOT NULL REFERENCES communities(id),
    channel         text NOT NULL CHECK (channel IN ('pos','groupbuy')),
    number          text NOT NULL CHECK (length(number) BETWEEN 3 AND 40),
    business_day    date NOT NULL,
    seq             integer NOT NULL CHECK (seq > 0),
    status          text NOT NULL CHECK (status IN ('awaiting_payment','paid','expired','cancelled')),
    total           numeric(14,2) NOT NULL CHECK (total >= 0),
    refunded_total  numeric(14,2) NOT NULL DEFAULT 0 CHECK (refunded_total >= 0 AND refunded_total <= total),
    receipt_token   text NOT NULL UNIQUE CHECK (length(receipt_token) >= 22),
    created_by      uuid REFERENCES users(id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz,
    paid_at         timestamptz,
    closed_at       timestamptz,
    UNIQUE (community_id, number),
    UNIQUE (community_id, business_day, seq),
    CHECK ((status = 'paid') = (paid_at IS NOT NULL)),
    CHECK (status = 'paid' OR refunded_total = 0),
    CHECK ((status IN ('expired','cancelled')) = (closed_at IS NOT NULL))
);
CREATE INDEX orders_community_created ON orders (community_id, created_at DESC);
CREATE INDEX orders_awaiting ON orders (expires_at) WHERE status = 'awaiting_payment';

-- Lines keep the price and cost as sold, whatever the catalogue says later.
CREATE TABLE order_lines (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id     uuid NOT NULL REFERENCES orders(id),
    line_no      integer NOT NULL CHECK (line_no > 0),
    product_id   uuid NOT NULL,
    name         text NOT NULL,
    qty          integer NOT NULL CHECK (qty > 0),
    unit_price   numeric(14,2) NOT NULL CHECK (unit_price >= 0),
    unit_cost    numeric(14,2) NOT NULL CHECK (unit_cost >= 0),
    amount       numeric(14,2) NOT NULL,
    -- consigned goods: the maker's name and share of this line's amount
    maker_name   text NOT NULL DEFAULT '',
    maker_share  numeric(14,2) NOT NULL DEFAULT 0 CHECK (maker_share >= 0 AND maker_share <= amount),
    refunded_qty integer NOT NULL DEFAULT 0 CHECK (refunded_qty >= 0 AND refunded_qty <= qty),
    UNIQUE (order_id, line_no),
    UNIQUE (order_id, product_id),
    CHECK (amount = unit_price * qty),
    CHECK (maker_name <> '' OR maker_share = 0)
);

-- One payment per order. merchant_ref is what the provider knows the payment
-- by (out_trade_no); statements are matched on it.
CREATE TABLE payments (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id    uuid NOT NULL REFERENCES communities(id),
    order_id        uuid NOT NULL UNIQUE REFERENCES orders(id),
    method          text NOT NULL CHECK (method IN ('cash','qr')),
    provider        text NOT NULL CHECK (provider IN ('cash','static','sandbox','wechatpay','alipay')),
    status          text NOT NULL CHECK (status IN ('pending','succeeded','failed','expired','cancelled')),
    amount          numeric(14,2) NOT NULL CHECK (amount >= 0),
    fee             numeric(14,2) NOT NULL DEFAULT 0 CHECK (fee >= 0 AND fee <= amount),
    refunded_amount numeric(14,2) NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
    merchant_ref    text NOT NULL UNIQUE CHECK (length(merchant_ref) BETWEEN 6 AND 32),
    qr_payload      text,
    provider_txn_id text,
    tendered        numeric(14,2),
    change          numeric(14,2),
    flagged         boolean NOT NULL DEFAULT false,
    flag_reason     text NOT NULL DEFAULT '',
    confirmed_by    uuid REFERENCES users(id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz,
    succeeded_at    timestamptz,
    CHECK ((method = 'cash') = (provider = 'cash')),
    CHECK ((status = 'succeeded') = (succeeded_at IS NOT NULL)),
    CHECK (method = 'qr' OR qr_payload IS NULL),
    CHECK (tendered IS NULL OR (method = 'cash' AND tendered >= amount AND change = tendered - amount)),
    CHECK (flagged OR flag_reason = '')
);
CREATE INDEX payments_flagged ON payments (community_id) WHERE flagged;

-- QR images are drawn once per payment and served from here by any replica.
CREATE TABLE payment_qr_images (
    payment_id uuid PRIMARY KEY REFERENCES payments(id),
    png        bytea NOT NULL,
    svg        text  NOT NULL
);

-- Every provider notification that passed verification, keyed by the
-- provider's notification id: a repeat finds its row and has no effect.
CREATE TABLE payment_notifications (
    provider        text NOT NULL,
    notification_id text NOT NULL CHECK (length(notification_id) BETWEEN 1 AND 128),
    payment_id      uuid REFERENCES payments(id),
    type            text NOT NULL,
    amount          numeric(14,2),
    outcome         text NOT NULL CHECK (outcome IN ('applied','no_effect','amount_mismatch','unknown_payment')),
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, notification_id)
);

CREATE TABLE refunds (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id uuid NOT NULL REFERENCES communities(id),
    order_id     uuid NOT NULL REFERENCES orders(id),
    payment_id   uuid NOT NULL REFERENCES payments(id),
    amount       numeric(14,2) NOT NULL CHECK (amount > 0),
    reason       text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    restock      boolean NOT NULL,
    status       text NOT NULL CHECK (status IN ('pending','succeeded','failed')),
    provider_ref text NOT NULL DEFAULT '',
    created_by   uuid REFERENCES users(id),
    approved_by  uuid REFERENCES users(id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (approved_by IS NULL OR created_by IS NULL OR approved_by <> created_by)
);
CREATE INDEX refunds_order ON refunds (order_id);

CREATE TABLE refund_lines (
    refund_id     uuid NOT NULL REFERENCES refunds(id),
    order_line_id uuid NOT NULL REFERENCES order_lines(id),
    product_id    uuid NOT NULL,
    qty           integer NOT NULL CHECK (qty > 0),
    amount        numeric(14,2) NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (refund_id, order_line_id)
);

-- The sandbox provider's own books: what a real wallet would keep on its side.
CREATE TABLE sandbox_payments (
    token        text PRIMARY KEY CHECK (length(token) >= 22),
    payment_id   uuid NOT NULL UNIQUE,
    merchant_ref text NOT NULL UNIQUE,
    amount       numeric(14,2) NOT NULL CHECK (amount >= 0),
    refunded     numeric(14,2) NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= amount),
    description  text NOT NULL DEFAULT '',
    status       text NOT NULL CHECK (status IN ('open','paid','closed')),
    txn_id       text UNIQUE,
    expires_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    paid_at      timestamptz,
    CHECK ((status = 'paid') = (paid_at IS NOT NULL AND txn_id IS NOT NULL))
);

-- The community's fixed 收款码 (static QR), uploaded by an admin.
CREATE TABLE static_qr_images (
    community_id uuid PRIMARY KEY REFERENCES communities(id),
    content_type text NOT NULL CHECK (content_type IN ('image/png','image/jpeg')),
    image        bytea NOT NULL CHECK (length(image) BETWEEN 1 AND 2000000),
    uploaded_by  uuid REFERENCES users(id),
    uploaded_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
SELECT 1;
