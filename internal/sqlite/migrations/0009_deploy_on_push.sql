-- The tag whose push to Jack's registry deploys the environment ('' for
-- none): `jack envs set APP/ENV --deploy-on-push TAG`.
ALTER TABLE environments ADD COLUMN deploy_on_push TEXT NOT NULL DEFAULT '';
