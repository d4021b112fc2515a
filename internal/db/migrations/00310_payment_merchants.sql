-- +goose Up

-- A community's merchant account at WeChat Pay or Alipay (issue 14). What
-- identifies the account (mchid / app id, the key id WeChat signs with) is
-- kept in clear so callbacks can find it; every secret (private keys, the
-- APIv3 key, public keys and certificates) is sealed with AES-256-GCM under
-- a key derived from SHELIN_SECRET_KEY and never shown again.
CREATE TABLE payment_merchants (
    community_id  uuid NOT NULL REFERENCES communities(id),
    provider      text NOT NULL CHECK (provider IN ('wechatpay','alipay')),
    merchant_id   text NOT NULL CHECK (length(merchant_id) BETWEEN 1 AND 64),
    app_id        text NOT NULL DEFAULT '' CHECK (length(app_id) <= 64),
    key_id        text NOT NULL DEFAULT '' CHECK (length(key_id) <= 128),
    sandbox       boolean NOT NULL DEFAULT false,
    sealed        bytea NOT NULL,
    version       integer NOT NULL DEFAULT 1,
    updated_by    uuid REFERENCES users(id),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    last_test_at  timestamptz,
    last_test_ok  boolean,
    last_test_msg text NOT NULL DEFAULT '',
    PRIMARY KEY (community_id, provider)
);
CREATE INDEX payment_merchants_key ON payment_merchants (provider, key_id);
CREATE INDEX payment_merchants_app ON payment_merchants (provider, app_id);

-- A remote provider's create is an outbox: checkout records the intent in
-- its transaction; the provider is called after commit (by the request, and
-- by a durable job as the fallback) and the QR payload stored in a second
-- transaction.
CREATE TABLE payment_creates (
    payment_id   uuid PRIMARY KEY REFERENCES payments(id),
    community_id uuid NOT NULL REFERENCES communities(id),
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','created','failed','abandoned')),
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);
CREATE INDEX payment_creates_pending ON payment_creates (created_at) WHERE status = 'pending';

-- Held money that the system gives back by itself (a payment that arrived
-- after its sale ended, at a provider that refunds): one row per suspense
-- item so the treasurer sees it was automatic.
CREATE TABLE suspense_auto_refunds (
    suspense_id  uuid PRIMARY KEY REFERENCES payment_suspense(id),
    community_id uuid NOT NULL REFERENCES communities(id),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Provider bills (trade statements) fetched by the daily download job.
CREATE TABLE provider_bills (
    community_id uuid NOT NULL REFERENCES communities(id),
    provider     text NOT NULL CHECK (provider IN ('wechatpay','alipay')),
    bill_date    date NOT NULL,
    rows         integer NOT NULL DEFAULT 0,
    content      bytea NOT NULL,
    fetched_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (community_id, provider, bill_date)
);

-- Each time a provider refund is about to be sent (refund id or held-money
-- id = out_refund_no), committed before the call: after a crash between
-- the provider's answer and its booking, the retry asks the provider where
-- the refund stands first and books that instead of sending it again.
CREATE TABLE refund_sends (
    refund_key   text PRIMARY KEY CHECK (length(refund_key) BETWEEN 1 AND 64),
    sends        integer NOT NULL DEFAULT 0,
    last_sent_at timestamptz NOT NULL DEFAULT now()
);
