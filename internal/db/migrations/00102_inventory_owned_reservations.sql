-- +goose Up
-- A reservation may be owned by the business object it holds stock for (a
-- stall sale awaiting payment): then only its owner ends it (commit or
-- release) and no expiry timer or sweep can release it behind its back.
ALTER TABLE reservations ADD COLUMN owner text NOT NULL DEFAULT '' CHECK (length(owner) <= 40);
DROP INDEX reservations_held_expiry;
CREATE INDEX reservations_held_expiry ON reservations (expires_at) WHERE state = 'held' AND owner = '';

-- +goose Down
SELECT 1;
