-- The queued job of a run, so a worker can queue it again when Redis lost it
-- (a restart without persistence): {"function", "job_id", "queue", "kwargs"}.
ALTER TABLE runs ADD COLUMN job jsonb;
CREATE INDEX runs_pending_idx ON runs (created_at) WHERE status = 'pending';
