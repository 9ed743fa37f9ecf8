-- Copies of a completed run (output, final playlist, segments) on each enabled storage
-- provider: one row per (run, provider), written by the replicate_run job.
CREATE TABLE run_replicas (
    run_id        text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    provider_id   integer NOT NULL REFERENCES storage_providers (id) ON DELETE CASCADE,
    state         text NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'copying', 'done', 'failed')),
    objects_done  integer NOT NULL DEFAULT 0 CHECK (objects_done >= 0),
    objects_total integer NOT NULL DEFAULT 0 CHECK (objects_total >= 0),
    attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error    text,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, provider_id)
);
CREATE INDEX run_replicas_unsettled_idx ON run_replicas (updated_at)
    WHERE state IN ('pending', 'copying');
