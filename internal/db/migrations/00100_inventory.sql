-- Inventory: catalogue, locations, lots, stock levels, the append-only
-- movement log, reservations and counts. Owned by package inventory.
-- +goose Up
CREATE TABLE product_images (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id uuid NOT NULL REFERENCES communities(id),
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    width        integer NOT NULL CHECK (width BETWEEN 1 AND 800),
    height       integer NOT NULL CHECK (height BETWEEN 1 AND 800),
    data         bytea NOT NULL CHECK (length(data) > 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (community_id, sha256),
    UNIQUE (community_id, id)
);

-- A product is one sellable SKU. Variants (a box of 6, a box of 12) are
-- separate products sharing group_name.
CREATE TABLE products (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id        uuid NOT NULL REFERENCES communities(id),
    sku                 text NOT NULL CHECK (sku ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    name                text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    group_name          text NOT NULL CHECK (length(btrim(group_name)) BETWEEN 1 AND 200),
    name_en             text NOT NULL DEFAULT '' CHECK (length(name_en) <= 200),
    price               numeric(14,2) NOT NULL CHECK (price >= 0),
    unit_cost           numeric(14,2) NOT NULL CHECK (unit_cost >= 0),
    barcode             text CHECK (barcode ~ '^[0-9A-Za-z-]{4,64}$'),
    image_id            uuid,
    track_stock         boolean NOT NULL DEFAULT true,
    perishable          boolean NOT NULL DEFAULT false,
    active              boolean NOT NULL DEFAULT true,
    maker_name          text NOT NULL DEFAULT '' CHECK (length(maker_name) <= 100),
    maker_share_percent numeric(5,2) NOT NULL DEFAULT 0 CHECK (maker_share_percent BETWEEN 0 AND 100),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (community_id, sku),
    UNIQUE (community_id, id),
    FOREIGN KEY (community_id, image_id) REFERENCES product_images (community_id, id),
    CONSTRAINT products_maker_share_needs_maker CHECK (maker_share_percent = 0 OR maker_name <> ''),
    CONSTRAINT products_perishable_tracked CHECK (NOT perishable OR track_stock)
);
CREATE UNIQUE INDEX products_barcode ON products (community_id, barcode) WHERE barcode IS NOT NULL;
CREATE INDEX products_group ON products (community_id, group_name, sku);

-- Every price, cost or maker share a product ever had, newest last.
CREATE TABLE product_price_history (
    id                  bigserial PRIMARY KEY,
    community_id        uuid NOT NULL,
    product_id          uuid NOT NULL,
    price               numeric(14,2) NOT NULL CHECK (price >= 0),
    unit_cost           numeric(14,2) NOT NULL CHECK (unit_cost >= 0),
    maker_share_percent numeric(5,2) NOT NULL CHECK (maker_share_percent BETWEEN 0 AND 100),
    user_id             uuid REFERENCES users(id),
    at                  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (community_id, product_id) REFERENCES products (community_id, id)
);
CREATE INDEX product_price_history_product ON product_price_history (product_id, id);

CREATE TABLE locations (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id uuid NOT NULL REFERENCES communities(id),
    name         text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    kind         text NOT NULL CHECK (kind IN ('store', 'stall')),
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (community_id, name),
    UNIQUE (community_id, id)
);

-- A lot is a batch of one product (code and best-before). Stock received
-- without a code or date goes to the product's plain lot ('', NULL).
CREATE TABLE lots (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id uuid NOT NULL,
    product_id   uuid NOT NULL,
    code         text NOT NULL DEFAULT '' CHECK (length(code) <= 64),
    best_before  date,
    created_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (community_id, product_id) REFERENCES products (community_id, id),
    UNIQUE NULLS NOT DISTINCT (product_id, code, best_before)
);

-- Stock of a product at a location. available = on_hand - reserved.
CREATE TABLE stock_levels (
    community_id  uuid NOT NULL,
    product_id    uuid NOT NULL,
    location_id   uuid NOT NULL,
    on_hand       integer NOT NULL DEFAULT 0,
    reserved      integer NOT NULL DEFAULT 0,
    low_threshold integer NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (product_id, location_id),
    FOREIGN KEY (community_id, product_id) REFERENCES products (community_id, id),
    FOREIGN KEY (community_id, location_id) REFERENCES locations (community_id, id),
    CONSTRAINT stock_on_hand_non_negative CHECK (on_hand >= 0),
    CONSTRAINT stock_reserved_non_negative CHECK (reserved >= 0),
    CONSTRAINT stock_reserved_within_on_hand CHECK (reserved <= on_hand),
    CONSTRAINT stock_low_threshold_non_negative CHECK (low_threshold >= 0)
);
CREATE INDEX stock_levels_location ON stock_levels (community_id, location_id);

-- Stock of one lot at a location; for every (product, location) the lots add
-- up to stock_levels.on_hand.
CREATE TABLE lot_stock (
    community_id uuid NOT NULL,
    lot_id       uuid NOT NULL REFERENCES lots(id),
    product_id   uuid NOT NULL,
    location_id  uuid NOT NULL,
    on_hand      integer NOT NULL CHECK (on_hand >= 0),
    PRIMARY KEY (lot_id, location_id),
    FOREIGN KEY (product_id, location_id) REFERENCES stock_levels (product_id, location_id)
);
CREATE INDEX lot_stock_product_location ON lot_stock (product_id, location_id);

-- A business step that moved stock (receipt, transfer, count, write-off,
-- restock); movements point to it through ref.
CREATE TABLE stock_operations (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id     uuid NOT NULL REFERENCES communities(id),
    kind             text NOT NULL CHECK (kind IN ('receipt', 'transfer', 'count', 'write_off', 'restock')),
    location_id      uuid NOT NULL,
    to_location_id   uuid,
    note             text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    user_id          uuid REFERENCES users(id),
    at               timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (community_id, location_id) REFERENCES locations (community_id, id),
    FOREIGN KEY (community_id, to_location_id) REFERENCES locations (community_id, id),
    CHECK ((kind = 'transfer') = (to_location_id IS NOT NULL)),
    CHECK (to_location_id IS NULL OR to_location_id <> location_id)
);

-- The append-only stock log. Every change to stock_levels.on_hand is a row
-- here; a trigger refuses UPDATE and DELETE.
CREATE TABLE stock_movements (
    id           bigserial PRIMARY KEY,
    community_id uuid NOT NULL,
    product_id   uuid NOT NULL,
    location_id  uuid NOT NULL,
    lot_id       uuid NOT NULL REFERENCES lots(id),
    kind         text NOT NULL CHECK (kind IN ('receipt', 'transfer_out', 'transfer_in', 'sale',
                                              'refund_restock', 'count_adjustment', 'write_off')),
    qty          integer NOT NULL CHECK (qty <> 0),
    ref          text NOT NULL DEFAULT '' CHECK (length(ref) <= 200),
    user_id      uuid REFERENCES users(id),
    at           timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (community_id, product_id) REFERENCES products (community_id, id),
    FOREIGN KEY (community_id, location_id) REFERENCES locations (community_id, id),
    CONSTRAINT stock_movements_sign CHECK (
        CASE kind
            WHEN 'receipt' THEN qty > 0
            WHEN 'transfer_in' THEN qty > 0
            WHEN 'refund_restock' THEN qty > 0
            WHEN 'transfer_out' THEN qty < 0
            WHEN 'sale' THEN qty < 0
            WHEN 'write_off' THEN qty < 0
            ELSE true
        END)
);
CREATE INDEX stock_movements_community ON stock_movements (community_id, id);
CREATE INDEX stock_movements_product_location ON stock_movements (product_id, location_id, id);
CREATE INDEX stock_movements_ref ON stock_movements (community_id, ref);

-- +goose StatementBegin
CREATE FUNCTION stock_movements_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'stock_movements is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER stock_movements_no_update_delete
    BEFORE UPDATE OR DELETE ON stock_movements
    FOR EACH ROW EXECUTE FUNCTION stock_movements_append_only();
CREATE TRIGGER stock_movements_no_truncate
    BEFORE TRUNCATE ON stock_movements
    FOR EACH STATEMENT EXECUTE FUNCTION stock_movements_append_only();

-- Stock held for a sale or group-buy until it is paid (commit), given back
-- (release) or expires.
CREATE TABLE reservations (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id uuid NOT NULL,
    location_id  uuid NOT NULL,
    ref          text NOT NULL DEFAULT '' CHECK (length(ref) <= 200),
    state        text NOT NULL DEFAULT 'held' CHECK (state IN ('held', 'committed', 'released', 'expired')),
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    closed_at    timestamptz,
    commit_ref   text NOT NULL DEFAULT '',
    FOREIGN KEY (community_id, location_id) REFERENCES locations (community_id, id),
    CHECK ((state = 'held') = (closed_at IS NULL))
);
CREATE INDEX reservations_held_expiry ON reservations (expires_at) WHERE state = 'held';
CREATE INDEX reservations_ref ON reservations (community_id, ref);

CREATE TABLE reservation_lines (
    reservation_id uuid NOT NULL REFERENCES reservations(id),
    product_id     uuid NOT NULL REFERENCES products(id),
    qty            integer NOT NULL CHECK (qty > 0),
    tracked        boolean NOT NULL,
    PRIMARY KEY (reservation_id, product_id)
);

-- +goose Down
SELECT 1;
