DROP TABLE cover_affiliates;
DROP TABLE covers;
