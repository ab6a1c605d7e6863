-- taskcenter embedded store, schema version 7: the broker's id of a published message.
--
-- With an external publisher the deliveries of the outbox group are the outbox; once a
-- broker confirmed one, history shows the id the broker gave it.

ALTER TABLE deliveries ADD COLUMN broker_id TEXT;
