DROP INDEX live_events_typing;
