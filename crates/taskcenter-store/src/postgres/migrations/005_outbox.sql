-- The broker's id of a published message: with an external publisher the deliveries of
-- the outbox group are the outbox; once a broker confirmed one, history shows its id.

ALTER TABLE deliveries ADD COLUMN broker_id text;
