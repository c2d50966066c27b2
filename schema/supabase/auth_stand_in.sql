-- A minimal stand-in for Supabase's auth schema, made by `moeen-synth --with-auth` on a plain
-- PostgreSQL so that the platform's row level security can be tried with signed-in users.
-- Columns as Supabase Auth 2.x has them (auth.users, auth.identities); only what sign-in
-- and the platform's policies need is enforced. Every object carries a 'moeen-synth:'
-- comment: rolling back 0001 drops exactly these, and a real Supabase auth is never touched.

CREATE TABLE IF NOT EXISTS auth.users (
    instance_id uuid,
    id uuid PRIMARY KEY,
    aud varchar(255),
    role varchar(255),
    email varchar(255),
    encrypted_password varchar(255),
    email_confirmed_at timestamptz,
    invited_at timestamptz,
    confirmation_token varchar(255),
    confirmation_sent_at timestamptz,
    recovery_token varchar(255),
    recovery_sent_at timestamptz,
    email_change_token_new varchar(255),
    email_change varchar(255),
    email_change_sent_at timestamptz,
    last_sign_in_at timestamptz,
    raw_app_meta_data jsonb,
    raw_user_meta_data jsonb,
    is_super_admin boolean,
    created_at timestamptz,
    updated_at timestamptz,
    phone text UNIQUE DEFAULT NULL,
    phone_confirmed_at timestamptz,
    phone_change text DEFAULT '',
    phone_change_token varchar(255) DEFAULT '',
    phone_change_sent_at timestamptz,
    confirmed_at timestamptz GENERATED ALWAYS AS (LEAST(email_confirmed_at, phone_confirmed_at)) STORED,
    email_change_token_current varchar(255) DEFAULT '',
    email_change_confirm_status smallint DEFAULT 0,
    banned_until timestamptz,
    reauthentication_token varchar(255) DEFAULT '',
    reauthentication_sent_at timestamptz,
    is_sso_user boolean NOT NULL DEFAULT false,
    deleted_at timestamptz,
    is_anonymous boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE auth.users IS 'moeen-synth: stand-in for Supabase auth.users';
CREATE UNIQUE INDEX IF NOT EXISTS users_email_partial_key ON auth.users (email)
    WHERE is_sso_user = false;

CREATE TABLE IF NOT EXISTS auth.identities (
    provider_id text NOT NULL,
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    identity_data jsonb NOT NULL,
    provider text NOT NULL,
    last_sign_in_at timestamptz,
    created_at timestamptz,
    updated_at timestamptz,
    email text GENERATED ALWAYS AS (lower(identity_data->>'email')) STORED,
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    UNIQUE (provider_id, provider)
);
COMMENT ON TABLE auth.identities IS 'moeen-synth: stand-in for Supabase auth.identities';
CREATE INDEX IF NOT EXISTS identities_user_id_idx ON auth.identities (user_id);

-- auth.uid() as Supabase defines it: the JWT's sub from request.jwt.claim.sub (older
-- PostgREST) or request.jwt.claims (newer). Only moeen-synth's own stand-in is replaced.
DO $$
BEGIN
    IF pg_catalog.obj_description(pg_catalog.to_regprocedure('auth.uid()'), 'pg_proc')
       LIKE 'moeen-synth:%' THEN
        CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid
            LANGUAGE sql STABLE
            AS $fn$SELECT coalesce(
                nullif(current_setting('request.jwt.claim.sub', true), ''),
                nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
            )::uuid$fn$;
    END IF;
END
$$;
