-- Core tables of artdag L1. Ids that are content hashes are text.

CREATE TABLE recipes (
    id          text PRIMARY KEY,               -- recipe id (sha3 of the canonical form)
    name        text NOT NULL,
    version     text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT '',
    source      text NOT NULL,
    syntax      text NOT NULL CHECK (syntax IN ('yaml', 'sexp')),
    canonical   jsonb NOT NULL,
    owner       text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recipes_name_idx ON recipes (name);

CREATE TABLE runs (
    id             text PRIMARY KEY,            -- uuid
    recipe_id      text REFERENCES recipes (id) ON DELETE SET NULL,
    status         text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    progress       double precision NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
    segment_count  integer NOT NULL DEFAULT 0,
    playlist_cid   text,
    output_cid     text,
    error          text,
    inputs         jsonb NOT NULL DEFAULT '{}'::jsonb,
    params         jsonb NOT NULL DEFAULT '{}'::jsonb,
    plan           jsonb,
    plan_id        text,
    analysis       jsonb,
    owner          text,
    task_id        text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    finished_at    timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX runs_status_idx ON runs (status);
CREATE INDEX runs_recipe_idx ON runs (recipe_id);
CREATE INDEX runs_created_idx ON runs (created_at DESC);

CREATE TABLE cache_items (
    cid         text PRIMARY KEY,
    size        bigint NOT NULL CHECK (size >= 0),
    media_type  text NOT NULL DEFAULT 'application/octet-stream',
    kind        text NOT NULL DEFAULT 'other'
                CHECK (kind IN ('video', 'audio', 'image', 'plan', 'analysis', 'hls', 'other')),
    path        text,
    source      text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cache_items_kind_idx ON cache_items (kind);

CREATE TABLE cache_meta (
    cid          text PRIMARY KEY REFERENCES cache_items (cid) ON DELETE CASCADE,
    title        text,
    description  text,
    tags         text[] NOT NULL DEFAULT '{}',
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE storage_providers (
    id          serial PRIMARY KEY,
    type        text NOT NULL CHECK (type IN ('local', 'ipfs', 's3')),
    name        text NOT NULL UNIQUE,
    config      jsonb NOT NULL DEFAULT '{}'::jsonb,
    enabled     boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pins (
    cid          text NOT NULL,
    provider_id  integer NOT NULL REFERENCES storage_providers (id) ON DELETE CASCADE,
    pinned_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cid, provider_id)
);

CREATE TABLE provenance (
    id          bigserial PRIMARY KEY,
    run_id      text REFERENCES runs (id) ON DELETE CASCADE,
    cid         text NOT NULL,
    record      jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX provenance_run_idx ON provenance (run_id);
CREATE INDEX provenance_cid_idx ON provenance (cid);

CREATE TABLE step_cache (
    cache_id    text PRIMARY KEY,               -- plan step cache id
    cid         text NOT NULL,
    step_type   text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
