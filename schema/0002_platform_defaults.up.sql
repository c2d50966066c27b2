-- 0002_platform_defaults (up)
-- The default rows of the platform's complete_schema.sql, made deterministic: each id is
-- md5('moeen-default:<table>:<natural key>')::uuid and each timestamp is
-- 2025-01-01 00:00:00+03, so any two databases hold identical rows. Rows whose natural
-- key already exists are left as they are.

-- roles has no id column; its natural key is role.
INSERT INTO roles (role, name, description, permissions, created_at, updated_at)
SELECT v.role, v.name, v.description, v.permissions::jsonb,
       TIMESTAMPTZ '2025-01-01 00:00:00+03', TIMESTAMPTZ '2025-01-01 00:00:00+03'
FROM (VALUES
    ('patient', 'Patient', 'Patient role with basic access',
     '["view_own_profile", "book_appointment", "view_own_appointments",
       "view_own_medical_records"]'),
    ('doctor', 'Doctor', 'Doctor role with medical access',
     '["view_patient_records", "create_medical_records", "manage_appointments",
       "prescribe_medications"]'),
    ('staff', 'Staff', 'Staff role with administrative access',
     '["manage_patients", "manage_appointments", "process_payments", "send_notifications"]'),
    ('supervisor', 'Supervisor', 'Supervisor role with oversight access',
     '["view_reports", "manage_staff", "approve_claims", "system_monitoring"]'),
    ('admin', 'Administrator', 'Admin role with full system access',
     '["full_access", "manage_users", "system_configuration", "audit_logs"]')
) AS v (role, name, description, permissions)
ON CONFLICT (role) DO NOTHING;

-- languages: natural key code.
INSERT INTO languages (id, code, name, native_name, direction, is_default, is_active, created_at)
SELECT md5('moeen-default:languages:' || v.code)::uuid,
       v.code, v.name, v.native_name, v.direction, v.is_default, v.is_active,
       TIMESTAMPTZ '2025-01-01 00:00:00+03'
FROM (VALUES
    ('ar', 'Arabic', 'العربية', 'rtl', true, true),
    ('en', 'English', 'English', 'ltr', false, true)
) AS v (code, name, native_name, direction, is_default, is_active)
ON CONFLICT (code) DO NOTHING;

-- system_settings: natural key "key".
INSERT INTO system_settings
    (id, key, value, type, description, is_public, category, created_at, updated_at)
SELECT md5('moeen-default:system_settings:' || v.key)::uuid,
       v.key, v.value::jsonb, v.type, v.description, v.is_public, v.category,
       TIMESTAMPTZ '2025-01-01 00:00:00+03', TIMESTAMPTZ '2025-01-01 00:00:00+03'
FROM (VALUES
    ('app_name', '"مُعين - منصة الرعاية الصحية"', 'string', 'Application name', true, 'general'),
    ('app_version', '"1.0.0"', 'string', 'Application version', true, 'general'),
    ('default_language', '"ar"', 'string', 'Default language', true, 'i18n'),
    ('timezone', '"Asia/Riyadh"', 'string', 'Default timezone', true, 'general'),
    ('currency', '"SAR"', 'string', 'Default currency', true, 'financial'),
    ('max_file_size', '10485760', 'number', 'Maximum file upload size in bytes', false,
     'uploads'),
    ('session_timeout', '3600', 'number', 'Session timeout in seconds', false, 'security'),
    ('enable_notifications', 'true', 'boolean', 'Enable system notifications', true,
     'notifications'),
    ('maintenance_mode', 'false', 'boolean', 'Maintenance mode status', true, 'system')
) AS v (key, value, type, description, is_public, category)
ON CONFLICT (key) DO NOTHING;

-- notification_templates: natural key name.
INSERT INTO notification_templates
    (id, name, type, language, subject, body, variables, is_active, created_at, updated_at)
SELECT md5('moeen-default:notification_templates:' || v.name)::uuid,
       v.name, v.type, v.language, v.subject, v.body, v.variables::jsonb, v.is_active,
       TIMESTAMPTZ '2025-01-01 00:00:00+03', TIMESTAMPTZ '2025-01-01 00:00:00+03'
FROM (VALUES
    ('appointment_confirmation', 'appointment', 'ar', 'تأكيد الموعد',
     'تم تأكيد موعدك مع الدكتور {{doctor_name}} في {{appointment_date}}',
     '["doctor_name", "appointment_date"]', true),
    ('appointment_reminder', 'reminder', 'ar', 'تذكير بالموعد',
     'تذكير: لديك موعد مع الدكتور {{doctor_name}} غداً في {{appointment_time}}',
     '["doctor_name", "appointment_time"]', true),
    ('payment_confirmation', 'payment', 'ar', 'تأكيد الدفع',
     'تم تأكيد دفع مبلغ {{amount}} {{currency}} بنجاح',
     '["amount", "currency"]', true),
    ('welcome_message', 'system', 'ar', 'مرحباً بك',
     'مرحباً {{name}}، أهلاً وسهلاً بك في منصة مُعين للرعاية الصحية',
     '["name"]', true)
) AS v (name, type, language, subject, body, variables, is_active)
ON CONFLICT (name) DO NOTHING;

-- translations: natural key (language_code, key, namespace), in that order in the id text.
INSERT INTO translations
    (id, language_code, key, value, namespace, is_approved, created_at, updated_at)
SELECT md5('moeen-default:translations:' || v.language_code || ':' || v.key || ':'
           || v.namespace)::uuid,
       v.language_code, v.key, v.value, v.namespace, true,
       TIMESTAMPTZ '2025-01-01 00:00:00+03', TIMESTAMPTZ '2025-01-01 00:00:00+03'
FROM (VALUES
    ('ar', 'common.welcome', 'مرحباً', 'common'),
    ('ar', 'common.hello', 'أهلاً وسهلاً', 'common'),
    ('ar', 'common.goodbye', 'وداعاً', 'common'),
    ('ar', 'common.yes', 'نعم', 'common'),
    ('ar', 'common.no', 'لا', 'common'),
    ('ar', 'common.save', 'حفظ', 'common'),
    ('ar', 'common.cancel', 'إلغاء', 'common'),
    ('ar', 'common.edit', 'تعديل', 'common'),
    ('ar', 'common.delete', 'حذف', 'common'),
    ('ar', 'common.search', 'بحث', 'common'),
    ('ar', 'common.loading', 'جاري التحميل...', 'common'),
    ('ar', 'common.error', 'حدث خطأ', 'common'),
    ('ar', 'common.success', 'تم بنجاح', 'common'),
    ('ar', 'dashboard.title', 'لوحة التحكم', 'dashboard'),
    ('ar', 'dashboard.overview', 'نظرة عامة', 'dashboard'),
    ('ar', 'dashboard.metrics', 'المقاييس', 'dashboard'),
    ('ar', 'patient.title', 'المريض', 'patient'),
    ('ar', 'doctor.title', 'الطبيب', 'doctor'),
    ('ar', 'staff.title', 'الموظف', 'staff'),
    ('ar', 'admin.title', 'المدير', 'admin'),
    ('ar', 'appointment.title', 'الموعد', 'appointment'),
    ('ar', 'payment.title', 'الدفع', 'payment'),
    ('ar', 'insurance.title', 'التأمين', 'insurance'),
    ('en', 'common.welcome', 'Welcome', 'common'),
    ('en', 'common.hello', 'Hello', 'common'),
    ('en', 'common.goodbye', 'Goodbye', 'common'),
    ('en', 'common.yes', 'Yes', 'common'),
    ('en', 'common.no', 'No', 'common'),
    ('en', 'common.save', 'Save', 'common'),
    ('en', 'common.cancel', 'Cancel', 'common'),
    ('en', 'common.edit', 'Edit', 'common'),
    ('en', 'common.delete', 'Delete', 'common'),
    ('en', 'common.search', 'Search', 'common'),
    ('en', 'common.loading', 'Loading...', 'common'),
    ('en', 'common.error', 'An error occurred', 'common'),
    ('en', 'common.success', 'Success', 'common'),
    ('en', 'dashboard.title', 'Dashboard', 'dashboard'),
    ('en', 'dashboard.overview', 'Overview', 'dashboard'),
    ('en', 'dashboard.metrics', 'Metrics', 'dashboard'),
    ('en', 'patient.title', 'Patient', 'patient'),
    ('en', 'doctor.title', 'Doctor', 'doctor'),
    ('en', 'staff.title', 'Staff', 'staff'),
    ('en', 'admin.title', 'Admin', 'admin'),
    ('en', 'appointment.title', 'Appointment', 'appointment'),
    ('en', 'payment.title', 'Payment', 'payment'),
    ('en', 'insurance.title', 'Insurance', 'insurance')
) AS v (language_code, key, value, namespace)
ON CONFLICT (language_code, key, namespace) DO NOTHING;

-- system_metrics has no unique key: insert only if no row with this metric_key exists.
INSERT INTO system_metrics (id, metric_key, metric_value, metric_unit, metadata, recorded_at)
SELECT md5('moeen-default:system_metrics:database_schema_created')::uuid,
       'database_schema_created', 1, 'count', '{"version": "1.0.0"}'::jsonb,
       TIMESTAMPTZ '2025-01-01 00:00:00+03'
WHERE NOT EXISTS (
    SELECT 1 FROM system_metrics WHERE metric_key = 'database_schema_created'
);
