-- taskcenter embedded store, schema version 4: which delivery was acked.
--
-- Any delivery's consumer may ack a message (a late ack after the lease ran out still
-- means the work was done); history shows whose ack it was.

ALTER TABLE deliveries ADD COLUMN acked_attempt INTEGER;
