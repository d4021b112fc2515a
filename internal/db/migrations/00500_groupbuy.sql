-- +goose Up

-- Charity group-buys (社邻益购): a 邻长's campaign, neighbours' joins, an
-- all-or-nothing settlement at the deadline, pickups with a code.
--
-- Capacity holds under any concurrency: a campaign has max_qty slot rows
-- (groupbuy_slots) and a join claims qty free ones with FOR UPDATE SKIP
-- LOCKED, so there can never be more units held than slots, and joins do
-- not queue on one hot row; per-person limits are checked under an
-- advisory lock of (campaign, phone).
CREATE TABLE groupbuy_campaigns (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id   uuid NOT NULL REFERENCES communities(id),
    token          text NOT NULL UNIQUE CHECK (length(token) >= 22),
    title          text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description    text NOT NULL DEFAULT '' CHECK (length(description) <= 4000),
    product_id     uuid NOT NULL REFERENCES products(id),
    price          numeric(14,2) NOT NULL CHECK (price > 0),
    fund_per_unit  numeric(14,2) NOT NULL CHECK (fund_per_unit >= 0 AND fund_per_unit <= price),
    min_qty        integer NOT NULL CHECK (min_qty > 0),
    max_qty        integer NOT NULL CHECK (max_qty >= min_qty AND max_qty <= 100000),
    per_person_max integer CHECK (per_person_max IS NULL OR per_person_max > 0),
    deadline       timestamptz NOT NULL,
    pickup_point   text NOT NULL CHECK (length(pickup_point) BETWEEN 1 AND 200),
    pickup_from    timestamptz,
    pickup_until   timestamptz,
    micro_grid     text NOT NULL DEFAULT '',
    -- where the goods are held when the product tracks stock (optional: most
    -- group-buys order from the supplier once the threshold is met)
    location_id    uuid REFERENCES locations(id),
    status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open','succeeded','failed','closed')),
    created_by     uuid REFERENCES users(id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    settled_at     timestamptz,
    CHECK ((status = 'open') = (settled_at IS NULL)),
    CHECK (pickup_until IS NULL OR pickup_from IS NULL OR pickup_until >= pickup_from)
);
CREATE INDEX groupbuy_campaigns_community ON groupbuy_campaigns (community_id, created_at DESC);
CREATE INDEX groupbuy_campaigns_due ON groupbuy_campaigns (deadline) WHERE status = 'open';

-- A join is one neighbour's order in a campaign (orders.channel = 'groupbuy')
-- with its one payment. Its order is paid only when the campaign succeeds
-- (then it has its proceeds entry); until then the money waits in escrow.
CREATE TABLE groupbuy_joins (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id   uuid NOT NULL REFERENCES communities(id),
    campaign_id    uuid NOT NULL REFERENCES groupbuy_campaigns(id),
    order_id       uuid NOT NULL UNIQUE REFERENCES orders(id),
    payment_id     uuid NOT NULL UNIQUE REFERENCES payments(id),
    token          text NOT NULL UNIQUE CHECK (length(token) >= 22),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 40),
    phone          text NOT NULL CHECK (phone ~ '^1[0-9]{10}$'),
    building       text NOT NULL DEFAULT '' CHECK (length(building) <= 40),
    qty            integer NOT NULL CHECK (qty > 0),
    amount         numeric(14,2) NOT NULL CHECK (amount >= 0),
    status         text NOT NULL CHECK (status IN ('pending','paid','expired','confirmed','refunding','refunded','held')),
    pickup_code    text NOT NULL CHECK (pickup_code ~ '^[0-9]{6}$'),
    reservation_id uuid REFERENCES reservations(id),
    proxy_by       uuid REFERENCES users(id),
    expires_at     timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    paid_at        timestamptz,
    picked_up_at   timestamptz,
    picked_up_by   uuid REFERENCES users(id),
    picked_up_for  text NOT NULL DEFAULT '',
    UNIQUE (campaign_id, pickup_code),
    CHECK (picked_up_at IS NULL OR status = 'confirmed'),
    -- paid_at: the join's money arrived while it could take it (a refunded
    -- join of a failed campaign keeps it; a late, held payment has none)
    CHECK (status NOT IN ('paid','confirmed','refunding') OR paid_at IS NOT NULL),
    CHECK (status NOT IN ('pending','expired','held') OR paid_at IS NULL)
);
CREATE INDEX groupbuy_joins_campaign ON groupbuy_joins (campaign_id, status);
CREATE INDEX groupbuy_joins_phone ON groupbuy_joins (campaign_id, phone);
CREATE INDEX groupbuy_joins_pending ON groupbuy_joins (expires_at) WHERE status = 'pending';

-- One row per unit a campaign can sell; join_id says which join holds it.
CREATE TABLE groupbuy_slots (
    campaign_id uuid NOT NULL REFERENCES groupbuy_campaigns(id),
    n           integer NOT NULL CHECK (n >= 1),
    join_id     uuid REFERENCES groupbuy_joins(id) DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (campaign_id, n)
);
CREATE INDEX groupbuy_slots_join ON groupbuy_slots (join_id) WHERE join_id IS NOT NULL;

-- Join orders are numbered GB-<n> from this sequence (orders.New.Seq), not
-- the community's daily counter: no hot row in a rush.
CREATE SEQUENCE groupbuy_order_seq START 1000000 MINVALUE 1000000;

-- The refund outbox of group-buys: a paid join of a failed campaign
-- (kind failed: its money leaves escrow when the provider confirms) or a
-- payment that arrived too late and was held in suspense (kind held). The id
-- is the out_refund_no: the provider refunds it once however often asked.
CREATE TABLE groupbuy_refunds (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id uuid NOT NULL REFERENCES communities(id),
    join_id      uuid NOT NULL UNIQUE REFERENCES groupbuy_joins(id),
    kind         text NOT NULL CHECK (kind IN ('failed','held')),
    suspense_id  uuid REFERENCES payment_suspense(id),
    amount       numeric(14,2) NOT NULL CHECK (amount > 0),
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','succeeded','failed')),
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text NOT NULL DEFAULT '',
    provider_ref text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    CHECK ((kind = 'held') = (suspense_id IS NOT NULL)),
    CHECK ((status = 'pending') = (finished_at IS NULL))
);
CREATE INDEX groupbuy_refunds_pending ON groupbuy_refunds (created_at) WHERE status = 'pending';

-- +goose Down
SELECT 1;
