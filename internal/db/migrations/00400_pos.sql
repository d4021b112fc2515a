-- +goose Up

-- A stall is an inventory location of kind stall with a short prefix for
-- its order numbers (MD-1130-0042).
CREATE TABLE pos_stalls (
    location_id  uuid PRIMARY KEY REFERENCES locations(id),
    community_id uuid NOT NULL REFERENCES communities(id),
    prefix       text NOT NULL CHECK (prefix ~ '^[A-Z][A-Z0-9]{0,5}$'),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- A tablet paired to a stall. The pairing code (shown to an admin) is short
-- lived; the device credential it is exchanged for is long lived. Both are
-- stored only as SHA-256 hashes.
CREATE TABLE pos_devices (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id        uuid NOT NULL REFERENCES communities(id),
    location_id         uuid NOT NULL REFERENCES pos_stalls(location_id),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    pairing_code_hash   bytea UNIQUE,
    pairing_expires_at  timestamptz,
    credential_hash     bytea UNIQUE,
    paired_at           timestamptz,
    revoked_at          timestamptz,
    created_by          uuid REFERENCES users(id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    last_seen_at        timestamptz,
    CHECK ((pairing_code_hash IS NULL) OR (pairing_expires_at IS NOT NULL)),
    CHECK ((paired_at IS NULL) = (credential_hash IS NULL))
);

-- PIN attempts on a device, for throttling and locking.
CREATE TABLE pos_pin_failures (
    id        bigserial PRIMARY KEY,
    device_id uuid NOT NULL REFERENCES pos_devices(id),
    user_id   uuid REFERENCES users(id),
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pos_pin_failures_device_at ON pos_pin_failures (device_id, at);
CREATE INDEX pos_pin_failures_user_at ON pos_pin_failures (user_id, at);

-- A shift at a stall: open with a float, close with a counted amount.
CREATE TABLE pos_shifts (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id   uuid NOT NULL REFERENCES communities(id),
    location_id    uuid NOT NULL REFERENCES pos_stalls(location_id),
    device_id      uuid REFERENCES pos_devices(id),
    opened_by      uuid NOT NULL REFERENCES users(id),
    opening_float  numeric(14,2) NOT NULL CHECK (opening_float >= 0),
    opened_at      timestamptz NOT NULL DEFAULT now(),
    handover_from  uuid REFERENCES pos_shifts(id),
    blind          boolean NOT NULL DEFAULT false,
    closed_by      uuid REFERENCES users(id),
    closed_at      timestamptz,
    cash_sales     numeric(14,2),
    cash_refunds   numeric(14,2),
    expected_cash  numeric(14,2),
    counted_cash   numeric(14,2) CHECK (counted_cash >= 0),
    variance       numeric(14,2),
    CHECK ((closed_at IS NULL) = (counted_cash IS NULL)),
    CHECK ((closed_at IS NULL) = (expected_cash IS NULL)),
    CHECK (closed_at IS NULL OR (expected_cash = opening_float + cash_sales - cash_refunds AND variance = counted_cash - expected_cash))
);
-- At most one open shift per stall.
CREATE UNIQUE INDEX pos_shifts_one_open ON pos_shifts (location_id) WHERE closed_at IS NULL;

-- What pos adds to an order: where, on which device and shift, by whom, and
-- the stock reservation behind it.
CREATE TABLE pos_sales (
    order_id       uuid PRIMARY KEY REFERENCES orders(id),
    community_id   uuid NOT NULL REFERENCES communities(id),
    location_id    uuid NOT NULL REFERENCES pos_stalls(location_id),
    shift_id       uuid REFERENCES pos_shifts(id),
    device_id      uuid REFERENCES pos_devices(id),
    volunteer_id   uuid REFERENCES users(id),
    reservation_id uuid NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pos_sales_shift ON pos_sales (shift_id);
CREATE INDEX pos_sales_location_created ON pos_sales (location_id, created_at DESC);

-- Refunds made at a stall: the shift whose drawer paid cash back.
CREATE TABLE pos_refunds (
    refund_id   uuid PRIMARY KEY REFERENCES refunds(id),
    shift_id    uuid REFERENCES pos_shifts(id),
    cash        boolean NOT NULL
);

-- Sensitive actions need a second person's PIN; both people are recorded.
CREATE TABLE pos_approvals (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id uuid NOT NULL REFERENCES communities(id),
    action       text NOT NULL CHECK (action IN ('refund','discount','void')),
    entity_id    text NOT NULL,
    requested_by uuid NOT NULL REFERENCES users(id),
    approved_by  uuid NOT NULL REFERENCES users(id),
    at           timestamptz NOT NULL DEFAULT now(),
    CHECK (requested_by <> approved_by)
);

-- +goose Down
SELECT 1;
