-- taskcenter embedded store, schema version 1.
--
-- Status codes (tasks.status): 0 scheduled, 1 paused, 2 finished, 3 deleted.
-- Delivery states (deliveries.state):
--   0 published     waiting for its first lease (or requeued from the dead letters)
--   1 retrying      nacked, visible again at visible_at
--   2 leased        leased with retries left; visible_at = lease_until + next ladder delay,
--                   so an expired lease comes back by itself
--   3 leased_final  leased for the last time; visible_at = lease_until, then it is dead
--   4 acked, 5 dead, 6 cancelled (task deleted first),
--   7 unclaimed     no group subscribed to its tag yet (grp is NULL)
-- States below 3 are "deliverable": the ready indexes hold exactly those rows.

CREATE TABLE tasks (
    rid           INTEGER PRIMARY KEY,
    id            BLOB    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    kind          INTEGER NOT NULL,
    crontab       TEXT    NOT NULL,
    loop_time     INTEGER NOT NULL,
    loop_count    INTEGER NOT NULL,
    start_time    INTEGER NOT NULL,
    end_time      INTEGER NOT NULL,
    max_runtime   INTEGER NOT NULL,
    ack           INTEGER NOT NULL,
    timezone      TEXT    NOT NULL,
    misfire       TEXT    NOT NULL,
    created_at_ms INTEGER NOT NULL,
    status        INTEGER NOT NULL,
    next_fire_ms  INTEGER,
    fire_count    INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    -- 64-bit hash of (name, data): dedup is an index probe, confirmed on the real values.
    dedup_hash    INTEGER NOT NULL
);

-- The firing loop's window query; only scheduled tasks are in it.
CREATE INDEX tasks_due ON tasks (next_fire_ms) WHERE status = 0;
-- Dedup probes by hash, then checks status, name and data on the rows found. Not partial
-- on status: finishing a once task (its fire) would then delete a random index entry,
-- one more page written per fire.
CREATE INDEX tasks_dedup ON tasks (dedup_hash);
-- Listing, newest first, by name or overall. Deliberately not partial on status: a
-- condition on status would make every status change rewrite these entries too.
CREATE INDEX tasks_name ON tasks (name, created_at_ms);
CREATE INDEX tasks_created ON tasks (created_at_ms);

-- Payloads apart from the small, often rewritten schedule row: advancing a schedule
-- rewrites its whole row, which must not copy up to 256 KiB of data each time.
CREATE TABLE task_payloads (
    rid  INTEGER PRIMARY KEY,
    data TEXT NOT NULL
);

-- One row per fire ever made: the key is what makes a fire happen at most once. Its
-- deliveries (one per group, or one unclaimed) are inserted together, so they are the
-- id range first_delivery .. first_delivery + delivery_count - 1: history and
-- cancellation find them without an index on deliveries by task, which would be one more
-- randomly placed page written per fire.
CREATE TABLE fires (
    task_rid       INTEGER NOT NULL,
    fire_time      INTEGER NOT NULL,
    published_at   INTEGER NOT NULL,
    first_delivery INTEGER NOT NULL,
    delivery_count INTEGER NOT NULL,
    PRIMARY KEY (task_rid, fire_time)
) WITHOUT ROWID;

-- (tag, group) pairs; '*' subscribes a group to every tag.
CREATE TABLE subscriptions (
    tag TEXT NOT NULL,
    grp TEXT NOT NULL,
    PRIMARY KEY (tag, grp)
) WITHOUT ROWID;

-- One row per (fire, group); id is the msgid.
CREATE TABLE deliveries (
    id          INTEGER PRIMARY KEY,
    task_rid    INTEGER NOT NULL,
    fire_time   INTEGER NOT NULL,
    grp         TEXT,
    tag         TEXT    NOT NULL,
    state       INTEGER NOT NULL,
    attempt     INTEGER NOT NULL,
    visible_at  INTEGER NOT NULL,
    lease_until INTEGER,
    -- When it was acked, died or was cancelled.
    done_at     INTEGER
);

-- Leasing: all tags of a group, or one tag of a group, in visible order.
CREATE INDEX deliveries_ready ON deliveries (grp, visible_at) WHERE state < 3;
CREATE INDEX deliveries_ready_tag ON deliveries (grp, tag, visible_at) WHERE state < 3;
-- Last-attempt leases, turned into dead letters once expired.
CREATE INDEX deliveries_final ON deliveries (grp, visible_at) WHERE state = 3;
-- Claiming at subscribe time.
CREATE INDEX deliveries_unclaimed ON deliveries (tag) WHERE state = 7;
-- Dead letters, newest first, overall or by group.
CREATE INDEX deliveries_dead ON deliveries (done_at) WHERE state = 5;
CREATE INDEX deliveries_dead_grp ON deliveries (grp, done_at) WHERE state = 5;

-- Counters so metrics never count millions of rows. Kept by the statements that change
-- states (see counts.rs), not by triggers: a trigger makes every write open a statement
-- journal, which costs more than the write itself in a large group commit.
CREATE TABLE task_counts (
    status INTEGER PRIMARY KEY,
    n      INTEGER NOT NULL
);
INSERT INTO task_counts (status, n) VALUES (0, 0), (1, 0), (2, 0), (3, 0);

-- kind: 0 ready (published or retrying), 1 leased (either kind), 2 dead, 3 unclaimed.
CREATE TABLE queue_counts (
    kind INTEGER PRIMARY KEY,
    n    INTEGER NOT NULL
);
INSERT INTO queue_counts (kind, n) VALUES (0, 0), (1, 0), (2, 0), (3, 0);
