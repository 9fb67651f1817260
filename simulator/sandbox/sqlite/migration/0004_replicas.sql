-- Who holds a delivery's claim and who made each attempt (the replica
-- names of the deliveries view), and the sandbox clock's high-water mark
-- (SyncClock): one row, a Unix-nanosecond sandbox time.

ALTER TABLE deliveries ADD COLUMN leased_by TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN replica TEXT NOT NULL DEFAULT '';

CREATE TABLE clock (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	high_water INTEGER NOT NULL
) STRICT;
INSERT INTO clock (id, high_water) VALUES (1, 0);
