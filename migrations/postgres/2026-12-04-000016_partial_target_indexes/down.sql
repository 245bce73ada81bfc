DROP INDEX tickets_offer;
DROP INDEX tickets_smartlink;
DROP INDEX tickets_pending_requests;
CREATE INDEX tickets_offer ON tickets (offer_id, updated_at, id);
CREATE INDEX tickets_smartlink ON tickets (smartlink_id);
CREATE INDEX tickets_pending_requests ON tickets (request_state, affiliate_id);
