-- taskcenter embedded store, schema version 5: a table for readiness probes.
--
-- While writes fail for want of storage, readiness rewrites its one row of some pages
-- here: the store is ready again only once a write of that size commits.

CREATE TABLE write_probe (
    id  INTEGER PRIMARY KEY,
    pad BLOB NOT NULL
);
