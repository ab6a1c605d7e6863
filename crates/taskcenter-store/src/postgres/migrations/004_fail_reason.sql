-- Why a delivery failed, as its consumer said in its nack; the last reason given, kept
-- through retries into the dead letters.

ALTER TABLE deliveries ADD COLUMN fail_reason text;
