-- Which sign-in subscribed a device: signing out of it stops its notifications (a shared
-- tablet or computer must not go on showing the last user's orders). NULL for devices
-- subscribed before this was kept: they stay until turned off.
ALTER TABLE push_subscriptions ADD COLUMN session_hash TEXT;
CREATE INDEX push_subscriptions_session ON push_subscriptions (session_hash);
