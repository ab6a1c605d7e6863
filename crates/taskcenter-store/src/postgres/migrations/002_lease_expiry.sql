-- Leases that ran out are found by their end: the lease sweeper moves each expired lease
-- on (retrying or dead) soon after it ends, reading this index from its oldest end.

CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE state IN (2, 3);
