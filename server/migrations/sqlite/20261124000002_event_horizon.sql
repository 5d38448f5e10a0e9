-- How far the outbox has been pruned: events with seq <= pruned_through are gone, so a client
-- resuming from before it must reload its data instead.
CREATE TABLE event_horizon (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    pruned_through INTEGER NOT NULL
);
INSERT INTO event_horizon (id, pruned_through) VALUES (1, 0);
