-- taskcenter embedded store, schema version 8: the outbox leaves the by-tag ready index.
--
-- The outbox relay leases its group whole, never by tag, so the index that consumers' tag
-- filters read need not hold its messages: each outbox message then costs one index
-- entry less to commit with its fire and one less to settle. Queries that read this
-- index name the outbox as excluded, so SQLite may use it.

DROP INDEX deliveries_ready_tag;
CREATE INDEX deliveries_ready_tag ON deliveries (grp, tag, visible_at)
    WHERE state < 3 AND grp <> '@outbox';
