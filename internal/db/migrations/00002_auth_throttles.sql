-- +goose Up
-- Sign-in throttles that hold under parallel requests. One row per key
-- ('pw:login-ip:<login>|<addr>', 'pw:login:<login>', 'pw:ip:<addr>',
-- 'pin:user:<id>', 'pin:device:<id>'); an attempt locks its rows (in key
-- order), is refused while a key is backing off, and otherwise counts as a
-- failure before the password or PIN is checked. A success gives the count
-- back. Whether a key is backing off follows from failures and last_at:
-- limit free failures, then base × 2^(failures − limit), capped.
CREATE TABLE auth_throttles (
    key      text PRIMARY KEY CHECK (length(key) <= 300),
    failures integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    last_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX auth_throttles_last_at ON auth_throttles (last_at);

-- Where a person signed in successfully before (an address for passwords, a
-- tablet for PINs): others' failures there do not lock them out.
CREATE TABLE auth_known_places (
    user_id uuid NOT NULL REFERENCES users(id),
    place   text NOT NULL CHECK (length(place) <= 100),
    last_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, place)
);

-- A tablet PIN opens a 'pin' session: stall work only, whatever the role.
ALTER TABLE sessions ADD COLUMN kind text NOT NULL DEFAULT 'password' CHECK (kind IN ('password', 'pin'));

-- +goose Down
SELECT 1;
