-- Federation: the activities this L1 sends to its L2 (streamer/federation/publish.py).
--
-- One row per activity, in the order they were made (seq). The publisher writes
-- a row when a CID is published (Create, or Update when L2 holds it already) or
-- deleted (Delete); the delivery job (streamer/jobs/federation.py) posts the
-- activity to L2 and records how it went. The outbox (streamer/federation/outbox.py)
-- lists the delivered ones: WHERE state = 'published' ORDER BY seq DESC.
--
--   id             the activity's id, a URL on this L1 (<L1_PUBLIC_URL>/cache/<cid>/activities/<uuid>)
--   seq            creation order; activities of one CID are delivered in this order
--   cid            the content the activity is about
--   activity_type  Create | Update | Delete
--   object_type    Video | Image | Audio: the object's type (a Delete names the deleted one's)
--   object_id      the object's id, stable per CID (<L1_PUBLIC_URL>/cache/<cid>/object)
--   actor          this L1's actor (the activity's "actor"; it signs the delivery)
--   published_by   the user who asked (the API caller), as given
--   user_actor     that user's actor on L2 once discovered (mentioned by the object; its
--                  attributedTo is the actor, as receivers require)
--   target_inbox   the L2 inbox it was delivered to (once discovered)
--   remote_id      what L2 calls it: its Location answer, else the object id
--   state          publishing (queued or being retried) | published | failed
--   error          why the last attempt failed (NULL once published)
--   attempts       delivery attempts made
--   activity       the activity JSON as delivered (as it will be, while publishing)
--   created_at / updated_at / delivered_at / next_attempt_at   timestamps

CREATE TABLE federation_activities (
    id              text PRIMARY KEY,
    seq             bigserial NOT NULL UNIQUE,
    cid             text NOT NULL,
    activity_type   text NOT NULL CHECK (activity_type IN ('Create', 'Update', 'Delete')),
    object_type     text NOT NULL CHECK (object_type IN ('Video', 'Image', 'Audio')),
    object_id       text NOT NULL,
    actor           text NOT NULL,
    published_by    text,
    user_actor      text,
    target_inbox    text,
    remote_id       text,
    state           text NOT NULL DEFAULT 'publishing'
                    CHECK (state IN ('publishing', 'published', 'failed')),
    error           text,
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    activity        jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    next_attempt_at timestamptz
);
CREATE INDEX federation_activities_cid_idx ON federation_activities (cid, seq DESC);
CREATE INDEX federation_activities_published_idx ON federation_activities (seq DESC)
    WHERE state = 'published';
