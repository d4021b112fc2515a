-- +goose Up
-- Order numbers (MD-1130-0042) carry the day but not the year, so the same
-- printed number comes back a year later. What is unique, and never reused,
-- is (community, business day, sequence); the printed number is indexed for
-- look-ups at the stall.
ALTER TABLE orders DROP CONSTRAINT orders_community_id_number_key;
CREATE INDEX orders_community_number ON orders (community_id, number);

-- +goose Down
SELECT 1;
