-- The offer page and a new decision look up an offer's pushes per affiliate.
CREATE INDEX affise_pushes_offer ON affise_pushes (offer_id, affiliate_id, id);
