DROP INDEX affise_pushes_offer;
