-- 0002_platform_defaults (down)
-- Deletes the rows 0002 up inserted, by their computed ids (roles, which has no id, by
-- role and the fixed created_at). Rows that were already there when 0002 up ran, and
-- so were skipped by it, carry other ids and stay.

-- Deleting a language cascades to its translations: refuse rather than take other rows.
DO $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM translations t
        JOIN languages l ON l.code = t.language_code
        WHERE l.id IN (md5('moeen-default:languages:ar')::uuid,
                       md5('moeen-default:languages:en')::uuid)
          AND t.id IS DISTINCT FROM md5('moeen-default:translations:' || t.language_code
                                        || ':' || t.key || ':' || t.namespace)::uuid
    ) THEN
        RAISE EXCEPTION 'translations other than the defaults use languages ar/en; '
            'delete them first (deleting the languages would cascade to them)';
    END IF;
END
$$;

DELETE FROM system_metrics
WHERE id = md5('moeen-default:system_metrics:database_schema_created')::uuid;

DELETE FROM translations
WHERE id IN (
    SELECT md5('moeen-default:translations:' || l.code || ':' || k.key || ':'
               || k.namespace)::uuid
    FROM (VALUES ('ar'), ('en')) AS l (code)
    CROSS JOIN (VALUES
        ('common.welcome', 'common'), ('common.hello', 'common'),
        ('common.goodbye', 'common'), ('common.yes', 'common'), ('common.no', 'common'),
        ('common.save', 'common'), ('common.cancel', 'common'), ('common.edit', 'common'),
        ('common.delete', 'common'), ('common.search', 'common'),
        ('common.loading', 'common'), ('common.error', 'common'),
        ('common.success', 'common'),
        ('dashboard.title', 'dashboard'), ('dashboard.overview', 'dashboard'),
        ('dashboard.metrics', 'dashboard'),
        ('patient.title', 'patient'), ('doctor.title', 'doctor'), ('staff.title', 'staff'),
        ('admin.title', 'admin'), ('appointment.title', 'appointment'),
        ('payment.title', 'payment'), ('insurance.title', 'insurance')
    ) AS k (key, namespace)
);

DELETE FROM notification_templates
WHERE id IN (
    SELECT md5('moeen-default:notification_templates:' || n)::uuid
    FROM unnest(ARRAY['appointment_confirmation', 'appointment_reminder',
                      'payment_confirmation', 'welcome_message']) AS n
);

DELETE FROM system_settings
WHERE id IN (
    SELECT md5('moeen-default:system_settings:' || k)::uuid
    FROM unnest(ARRAY['app_name', 'app_version', 'default_language', 'timezone', 'currency',
                      'max_file_size', 'session_timeout', 'enable_notifications',
                      'maintenance_mode']) AS k
);

DELETE FROM languages
WHERE id IN (md5('moeen-default:languages:ar')::uuid, md5('moeen-default:languages:en')::uuid);

DELETE FROM roles
WHERE role IN ('patient', 'doctor', 'staff', 'supervisor', 'admin')
  AND created_at = TIMESTAMPTZ '2025-01-01 00:00:00+03';
