-- taskcenter PostgreSQL store, schema version 1.
--
-- Codes are the embedded store's. tasks.status: 0 scheduled, 1 paused, 2 finished,
-- 3 deleted (kept so its dead letters keep their payload). deliveries.state:
--   0 published     waiting for its first lease (or requeued from the dead letters)
--   1 retrying      nacked, visible again at visible_at
--   2 leased        leased with retries left; visible_at = lease_until + next ladder delay,
--                   so an expired lease comes back by itself
--   3 leased_final  leased for the last time; visible_at = lease_until, then it is dead
--   4 acked, 5 dead, 6 cancelled (task deleted first),
--   7 unclaimed     no group subscribed to its tag yet (grp is NULL)
-- States below 3 are "deliverable": the ready indexes hold exactly those rows.

CREATE TABLE tasks (
    id            bytea    PRIMARY KEY,
    -- Which shard lease fires it: see shard_leases. Fixed at insert.
    shard         integer  NOT NULL,
    name          text     NOT NULL,
    kind          smallint NOT NULL,
    -- The payload's UTF-8 bytes: text columns cannot hold NUL, payloads may.
    data          bytea    NOT NULL,
    crontab       text     NOT NULL,
    loop_time     bigint   NOT NULL,
    loop_count    bigint   NOT NULL,
    start_time    bigint   NOT NULL,
    end_time      bigint   NOT NULL,
    max_runtime   bigint   NOT NULL,
    ack           boolean  NOT NULL,
    timezone      text     NOT NULL,
    misfire       text     NOT NULL,
    created_at_ms bigint   NOT NULL,
    status        smallint NOT NULL,
    next_fire_ms  bigint,
    fire_count    bigint   NOT NULL,
    version       bigint   NOT NULL,
    -- 64-bit hash of (name, data): dedup is an index probe, confirmed on the real values.
    dedup_hash    bigint   NOT NULL
);

-- The firing loop's window query; the shard is filtered on the index entry.
CREATE INDEX tasks_due ON tasks (next_fire_ms, shard) WHERE status = 0;
-- Dedup probes live tasks only.
CREATE INDEX tasks_dedup ON tasks (dedup_hash) WHERE status < 2;
-- Listing, newest first, by name or overall.
CREATE INDEX tasks_name ON tasks (name, created_at_ms DESC, id DESC) WHERE status < 3;
CREATE INDEX tasks_created ON tasks (created_at_ms DESC, id DESC) WHERE status < 3;

-- One row per fire ever made: the key is what makes a fire happen at most once.
-- replica and epoch say who committed it under which shard lease (NULL for fires made
-- outside the split: by hand, or before a replica joined).
CREATE TABLE fires (
    task_id      bytea  NOT NULL,
    fire_time    bigint NOT NULL,
    published_at bigint NOT NULL,
    replica      text,
    epoch        bigint,
    PRIMARY KEY (task_id, fire_time)
);

-- (tag, group) pairs; '*' subscribes a group to every tag.
CREATE TABLE subscriptions (
    tag text NOT NULL,
    grp text NOT NULL,
    PRIMARY KEY (tag, grp)
);

-- One row per (fire, group); id is the msgid.
CREATE TABLE deliveries (
    id          bigserial PRIMARY KEY,
    task_id     bytea    NOT NULL,
    fire_time   bigint   NOT NULL,
    grp         text,
    tag         text     NOT NULL,
    state       smallint NOT NULL,
    attempt     bigint   NOT NULL,
    visible_at  bigint   NOT NULL,
    lease_until bigint,
    -- When it was acked, died or was cancelled.
    done_at     bigint
);

-- History and cancellation find a fire's deliveries.
CREATE INDEX deliveries_fire ON deliveries (task_id, fire_time);
-- Leasing: all tags of a group, or one tag of a group, in visible order.
CREATE INDEX deliveries_ready ON deliveries (grp, visible_at, id) WHERE state < 3;
CREATE INDEX deliveries_ready_tag ON deliveries (grp, tag, visible_at, id) WHERE state < 3;
-- Last-attempt leases, turned into dead letters once expired.
CREATE INDEX deliveries_final ON deliveries (grp, visible_at) WHERE state = 3;
-- Claiming at subscribe time.
CREATE INDEX deliveries_unclaimed ON deliveries (tag) WHERE state = 7;
-- Dead letters, newest first, overall or by group.
CREATE INDEX deliveries_dead ON deliveries (done_at DESC, id DESC) WHERE state = 5;
CREATE INDEX deliveries_dead_grp ON deliveries (grp, done_at DESC, id DESC) WHERE state = 5;
-- Queue depth counts the deliveries still in play, not the acked history.
CREATE INDEX deliveries_open ON deliveries (state) WHERE state IN (0, 1, 2, 3, 5, 7);

-- The task space is split into 128 shards (shard = FNV-1a of the task id mod 128). A
-- replica fires a shard's tasks only while it holds the shard's lease here: owner is the
-- replica, expires_at its deadline on the database's clock, and epoch rises by one each
-- time the shard changes hands, so a fire is committed only under the epoch it was
-- planned under (fencing).
CREATE TABLE shard_leases (
    shard      integer     PRIMARY KEY,
    owner      text,
    epoch      bigint      NOT NULL DEFAULT 0,
    expires_at timestamptz NOT NULL DEFAULT '-infinity'
);
INSERT INTO shard_leases (shard) SELECT generate_series(0, 127);

-- Replicas' heartbeats: the live ones share the shards evenly.
CREATE TABLE replicas (
    owner   text        PRIMARY KEY,
    seen_at timestamptz NOT NULL
);
