-- taskcenter embedded store, schema version 3: leases that ran out are found by their end.
--
-- The lease sweeper moves each expired lease on (retrying or dead) soon after it ends,
-- reading this index from its oldest end; it holds only the leased rows.

CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE state IN (2, 3);
