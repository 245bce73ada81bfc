-- Only access requests name an offer, a Smartlink or a request state (one ticket in
-- seven in the demo data), and every filter or lookup on these columns asks for a
-- value, never for NULL. Indexed whole, every question ticket still kept an entry
-- in each of the three, written again at every change of the ticket (a bulk close
-- of 22,485 tickets wrote 14 index entries per ticket); indexed only where set, a
-- question's change writes 11.
DROP INDEX tickets_offer;
DROP INDEX tickets_smartlink;
DROP INDEX tickets_pending_requests;
CREATE INDEX tickets_offer ON tickets (offer_id, updated_at, id) WHERE offer_id IS NOT NULL;
CREATE INDEX tickets_smartlink ON tickets (smartlink_id) WHERE smartlink_id IS NOT NULL;
CREATE INDEX tickets_pending_requests ON tickets (request_state, affiliate_id) WHERE request_state IS NOT NULL;
