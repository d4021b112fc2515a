-- +goose Up
CREATE TABLE communities (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    timezone   text NOT NULL DEFAULT 'Asia/Shanghai',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id  uuid REFERENCES communities(id),
    login         text NOT NULL UNIQUE CHECK (login ~ '^[A-Za-z0-9._@-]{3,64}$'),
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('platform_admin','admin','treasurer','volunteer','leader')),
    display_name  text NOT NULL DEFAULT '',
    pin_hash      text,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'platform_admin') = (community_id IS NULL))
);
CREATE INDEX users_community ON users (community_id);

CREATE TABLE grids (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id uuid NOT NULL REFERENCES communities(id),
    name         text NOT NULL,
    UNIQUE (community_id, name)
);

CREATE TABLE micro_grids (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    community_id   uuid NOT NULL REFERENCES communities(id),
    grid_id        uuid NOT NULL REFERENCES grids(id),
    name           text NOT NULL,
    households     integer NOT NULL DEFAULT 0 CHECK (households >= 0),
    leader_user_id uuid REFERENCES users(id),
    UNIQUE (community_id, name)
);

CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users(id),
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed sign-ins, keyed by 'login:<login>' or 'ip:<addr>', for throttling.
CREATE TABLE login_failures (
    key text        NOT NULL,
    at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key_at ON login_failures (key, at);

CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    community_id uuid REFERENCES communities(id),
    user_id      uuid REFERENCES users(id),
    action       text NOT NULL,
    entity       text NOT NULL,
    entity_id    text NOT NULL DEFAULT '',
    before       jsonb,
    after        jsonb,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_community_at ON audit_log (community_id, at);

-- Responses to writes a flaky network can repeat, scoped per community.
CREATE TABLE idempotency_keys (
    scope        text NOT NULL,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash bytea NOT NULL,
    status       integer NOT NULL,
    body         bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);

-- +goose Down
SELECT 1;
