-- How the router treats an environment's traffic: body limit, HTTPS
-- redirect, HSTS (JSON of jack.EdgeSettings).
ALTER TABLE environments ADD COLUMN edge TEXT NOT NULL DEFAULT '{}';
