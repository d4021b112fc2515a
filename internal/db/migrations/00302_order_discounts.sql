-- +goose Up
-- A discount on a whole sale (approved with a second person's PIN at the
-- stall). Lines keep their prices as sold; the order's total is the subtotal
-- less the discount, and refunds give back each line's discounted share.
ALTER TABLE orders ADD COLUMN subtotal numeric(14,2);
ALTER TABLE orders ADD COLUMN discount numeric(14,2) NOT NULL DEFAULT 0 CHECK (discount >= 0);
UPDATE orders SET subtotal = total;
ALTER TABLE orders ALTER COLUMN subtotal SET NOT NULL;
ALTER TABLE orders ADD CONSTRAINT orders_total_is_subtotal_less_discount CHECK (total = subtotal - discount);

-- +goose Down
SELECT 1;
