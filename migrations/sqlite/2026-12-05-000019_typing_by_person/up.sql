-- A person's typing notices are looked up to keep them to one every few seconds.
CREATE INDEX live_events_typing ON live_events (actor_kind, actor_id, created_at) WHERE kind = 'typing';
