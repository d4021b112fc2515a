-- +goose Up
-- A payment may hold money twice over: a wrong amount reported while the
-- sale still waited (that sale goes on), and then the right money arriving
-- after the sale was cancelled or expired. One item per payment for each of
-- the two kinds; repeats of the same kind are the same money.
ALTER TABLE payment_suspense DROP CONSTRAINT payment_suspense_payment_id_key;
CREATE UNIQUE INDEX payment_suspense_one_mismatch ON payment_suspense (payment_id) WHERE reason = 'amount_mismatch';
CREATE UNIQUE INDEX payment_suspense_one_hold ON payment_suspense (payment_id) WHERE reason <> 'amount_mismatch';

-- +goose Down
SELECT 1;
