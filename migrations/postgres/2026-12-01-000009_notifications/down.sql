DROP TABLE live_events;
DROP TABLE notification_optouts;
DROP TABLE outbox;
