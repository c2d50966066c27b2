-- 0001_platform_schema (down)
-- Drops what 0001 up created. No CASCADE: an object added on top of the schema makes
-- this fail rather than vanish. Extensions are left installed.

DROP VIEW appointment_details;
DROP VIEW doctor_dashboard;
DROP VIEW patient_dashboard;

-- Children before parents; indexes, policies and triggers go with their tables.
DROP TABLE crm_activities;
DROP TABLE crm_leads;
DROP TABLE chatbot_messages;
DROP TABLE chatbot_conversations;
DROP TABLE chatbot_flows;
DROP TABLE system_metrics;
DROP TABLE reports;
DROP TABLE translations;
DROP TABLE languages;
DROP TABLE system_settings;
DROP TABLE audit_logs;
DROP TABLE notification_templates;
DROP TABLE notifications;
DROP TABLE payments;
DROP TABLE insurance_claims;
DROP TABLE file_uploads;
DROP TABLE medical_records;
DROP TABLE appointments;
DROP TABLE doctors;
DROP TABLE patients;
DROP TABLE users;
DROP TABLE roles;

DROP FUNCTION update_updated_at_column();

-- Stand-ins created by 0001 up carry a 'moeen-synth:' comment; anything else
-- (uuid-ossp's function, Supabase's auth.uid() and auth schema) is left alone.
DO $$
DECLARE
    fn regprocedure;
BEGIN
    fn := pg_catalog.to_regprocedure('public.uuid_generate_v4()');
    IF fn IS NOT NULL
       AND pg_catalog.obj_description(fn, 'pg_proc') LIKE 'moeen-synth:%'
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend
                       WHERE classid = 'pg_catalog.pg_proc'::regclass
                         AND objid = fn AND deptype = 'e') THEN
        DROP FUNCTION public.uuid_generate_v4();
    END IF;

    fn := pg_catalog.to_regprocedure('auth.uid()');
    IF fn IS NOT NULL AND pg_catalog.obj_description(fn, 'pg_proc') LIKE 'moeen-synth:%' THEN
        DROP FUNCTION auth.uid();
    END IF;

    -- The minimal auth tables `--with-auth` made (schema/supabase/auth_stand_in.sql).
    IF pg_catalog.obj_description(pg_catalog.to_regclass('auth.identities'), 'pg_class')
       LIKE 'moeen-synth:%' THEN
        DROP TABLE auth.identities;
    END IF;
    IF pg_catalog.obj_description(pg_catalog.to_regclass('auth.users'), 'pg_class')
       LIKE 'moeen-synth:%' THEN
        DROP TABLE auth.users;
    END IF;

    -- The auth schema goes only if 0001 up created it and nothing is left in it.
    IF pg_catalog.to_regnamespace('auth') IS NOT NULL
       AND pg_catalog.obj_description(pg_catalog.to_regnamespace('auth'), 'pg_namespace')
           LIKE 'moeen-synth:%'
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend
                       WHERE refclassid = 'pg_catalog.pg_namespace'::regclass
                         AND refobjid = pg_catalog.to_regnamespace('auth')) THEN
        DROP SCHEMA auth;
    END IF;
END
$$;
