-- +goose Up
-- A second person's PIN is exchanged for a short-lived approval token bound
-- to the action, the community and both people; the write (a discounted
-- sale, a refund) carries the token, never the PIN. Only a SHA-256 hash of
-- the token is kept. A token is used once, inside the write's own
-- transaction, so a write that rolls back leaves it unused.
CREATE TABLE pos_approval_tokens (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id uuid NOT NULL REFERENCES communities(id),
    action       text NOT NULL CHECK (action IN ('refund','discount','void')),
    token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    requested_by uuid NOT NULL REFERENCES users(id),
    approved_by  uuid NOT NULL REFERENCES users(id),
    device_id    uuid REFERENCES pos_devices(id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    CHECK (requested_by <> approved_by),
    CHECK (expires_at > created_at),
    CHECK (used_at IS NULL OR used_at >= created_at)
);
CREATE INDEX pos_approval_tokens_community_created ON pos_approval_tokens (community_id, created_at);

-- Once used, a token stays used: only the step from unused to used (and
-- shortening a token's life) is allowed; nothing else about a token changes.
-- +goose StatementBegin
CREATE FUNCTION pos_approval_tokens_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id <> OLD.id OR NEW.community_id <> OLD.community_id OR NEW.action <> OLD.action
       OR NEW.token_hash <> OLD.token_hash OR NEW.requested_by <> OLD.requested_by
       OR NEW.approved_by <> OLD.approved_by OR NEW.device_id IS DISTINCT FROM OLD.device_id
       OR NEW.created_at <> OLD.created_at OR NEW.expires_at > OLD.expires_at
       OR OLD.used_at IS NOT NULL THEN
        RAISE EXCEPTION 'an approval token is only ever marked used, once' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER pos_approval_tokens_guard BEFORE UPDATE ON pos_approval_tokens
    FOR EACH ROW EXECUTE FUNCTION pos_approval_tokens_guard();

-- +goose Down
SELECT 1;
