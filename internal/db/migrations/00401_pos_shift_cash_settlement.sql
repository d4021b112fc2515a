-- +goose Up
-- The float a shift's drawer owes back to the community's petty cash: the
-- opening float for a fresh shift, carried over on a handover.
ALTER TABLE pos_shifts ADD COLUMN float_advanced numeric(14,2) CHECK (float_advanced >= 0);
UPDATE pos_shifts SET float_advanced = opening_float;
ALTER TABLE pos_shifts ALTER COLUMN float_advanced SET NOT NULL;
-- Whether the close handed the drawer to the next shift (no deposit).
ALTER TABLE pos_shifts ADD COLUMN handed_over boolean NOT NULL DEFAULT false;
ALTER TABLE pos_shifts ADD COLUMN deposited numeric(14,2) CHECK (deposited >= 0);

-- +goose Down
SELECT 1;
