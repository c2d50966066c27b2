-- 0001_platform_schema (up)
-- The Moeen platform schema as database/schema/complete_schema.sql defines it:
-- 22 tables, indexes, RLS with 8 policies, 1 trigger function with 12 triggers, 3 views.
-- Runs on PostgreSQL 13 to 18; no extension is required. Run inside one transaction.

-- Extensions: created where the server ships them (embedded builds may not).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'uuid-ossp') THEN
        CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'pgcrypto') THEN
        CREATE EXTENSION IF NOT EXISTS pgcrypto;
    END IF;
END
$$;

-- uuid_generate_v4(): the column default. Without uuid-ossp, a SQL stand-in over the
-- built-in gen_random_uuid() (PostgreSQL 13+). The comment marks it for the down file.
DO $$
BEGIN
    IF pg_catalog.to_regprocedure('uuid_generate_v4()') IS NULL THEN
        CREATE FUNCTION public.uuid_generate_v4() RETURNS uuid
            LANGUAGE sql VOLATILE PARALLEL SAFE
            AS 'SELECT pg_catalog.gen_random_uuid()';
        COMMENT ON FUNCTION public.uuid_generate_v4() IS
            'moeen-synth: stand-in for uuid-ossp uuid_generate_v4()';
    END IF;
END
$$;

-- auth.uid(): Supabase provides it; elsewhere a stand-in with Supabase's convention
-- (the request.jwt.claim.sub setting as a uuid, or NULL). An existing one is kept.
DO $$
BEGIN
    IF pg_catalog.to_regnamespace('auth') IS NULL THEN
        CREATE SCHEMA IF NOT EXISTS auth;
        COMMENT ON SCHEMA auth IS 'moeen-synth: stand-in for the Supabase auth schema';
        GRANT USAGE ON SCHEMA auth TO PUBLIC;
    END IF;
    IF pg_catalog.to_regprocedure('auth.uid()') IS NULL THEN
        CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid
            LANGUAGE sql STABLE
            AS $fn$SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid$fn$;
        COMMENT ON FUNCTION auth.uid() IS
            'moeen-synth: stand-in for Supabase auth.uid() (request.jwt.claim.sub)';
    END IF;
END
$$;

-- Tables, parents before children. Constraint names are PostgreSQL's defaults.

CREATE TABLE roles (
    role VARCHAR(50) PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    description TEXT,
    permissions JSONB DEFAULT '[]',
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW()
);

CREATE TABLE users (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    email VARCHAR(255) UNIQUE NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    role VARCHAR(50) NOT NULL
        CHECK (role IN ('patient', 'doctor', 'staff', 'supervisor', 'admin')),
    is_active BOOLEAN DEFAULT true,
    is_verified BOOLEAN DEFAULT false,
    last_login TIMESTAMPTZ,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    profile JSONB DEFAULT '{}',
    preferences JSONB DEFAULT '{}',
    public_id VARCHAR(50) UNIQUE
        GENERATED ALWAYS AS ('usr_' || substr(id::text, 1, 8)) STORED
);

CREATE TABLE patients (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    user_id UUID REFERENCES users(id) ON DELETE CASCADE,
    medical_record_number VARCHAR(50) UNIQUE NOT NULL,
    full_name VARCHAR(255) NOT NULL,
    date_of_birth DATE NOT NULL,
    gender VARCHAR(10) CHECK (gender IN ('male', 'female', 'other')),
    phone VARCHAR(20) NOT NULL,
    email VARCHAR(255),
    address TEXT,
    emergency_contact_name VARCHAR(255),
    emergency_contact_phone VARCHAR(20),
    insurance_provider VARCHAR(100),
    insurance_number VARCHAR(50),
    insurance_expiry DATE,
    is_activated BOOLEAN DEFAULT false,
    activation_date TIMESTAMPTZ,
    medical_history JSONB DEFAULT '[]',
    allergies JSONB DEFAULT '[]',
    medications JSONB DEFAULT '[]',
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    public_id VARCHAR(50) UNIQUE
        GENERATED ALWAYS AS ('pat_' || substr(id::text, 1, 8)) STORED
);

CREATE TABLE doctors (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    user_id UUID REFERENCES users(id) ON DELETE CASCADE,
    license_number VARCHAR(50) UNIQUE NOT NULL,
    full_name VARCHAR(255) NOT NULL,
    speciality VARCHAR(100) NOT NULL,
    sub_speciality VARCHAR(100),
    phone VARCHAR(20) NOT NULL,
    email VARCHAR(255),
    address TEXT,
    experience_years INTEGER DEFAULT 0,
    education JSONB DEFAULT '[]',
    certifications JSONB DEFAULT '[]',
    schedule JSONB DEFAULT '{}',
    consultation_fee DECIMAL(10, 2) DEFAULT 0,
    is_available BOOLEAN DEFAULT true,
    rating DECIMAL(3, 2) DEFAULT 0,
    total_reviews INTEGER DEFAULT 0,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    public_id VARCHAR(50) UNIQUE
        GENERATED ALWAYS AS ('doc_' || substr(id::text, 1, 8)) STORED
);

CREATE TABLE appointments (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    patient_id UUID REFERENCES patients(id) ON DELETE CASCADE,
    doctor_id UUID REFERENCES doctors(id) ON DELETE CASCADE,
    scheduled_at TIMESTAMPTZ NOT NULL,
    duration_minutes INTEGER DEFAULT 30,
    type VARCHAR(50) DEFAULT 'consultation'
        CHECK (type IN ('consultation', 'follow_up', 'emergency', 'surgery', 'checkup')),
    status VARCHAR(50) DEFAULT 'pending'
        CHECK (status IN ('pending', 'confirmed', 'in_progress', 'completed', 'cancelled',
                          'no_show')),
    payment_status VARCHAR(50) DEFAULT 'unpaid'
        CHECK (payment_status IN ('unpaid', 'paid', 'partial', 'refunded')),
    payment_method VARCHAR(50)
        CHECK (payment_method IN ('cash', 'card', 'insurance', 'bank_transfer')),
    notes TEXT,
    diagnosis TEXT,
    prescription TEXT,
    follow_up_required BOOLEAN DEFAULT false,
    follow_up_date TIMESTAMPTZ,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    public_id VARCHAR(50) UNIQUE
        GENERATED ALWAYS AS ('apt_' || substr(id::text, 1, 8)) STORED
);

CREATE TABLE medical_records (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    patient_id UUID REFERENCES patients(id) ON DELETE CASCADE,
    doctor_id UUID REFERENCES doctors(id) ON DELETE CASCADE,
    appointment_id UUID REFERENCES appointments(id) ON DELETE SET NULL,
    record_type VARCHAR(50) NOT NULL
        CHECK (record_type IN ('diagnosis', 'prescription', 'lab_result', 'xray', 'scan',
                               'surgery', 'vaccination', 'other')),
    title VARCHAR(255) NOT NULL,
    description TEXT,
    file_path VARCHAR(500),
    file_name VARCHAR(255),
    file_size BIGINT,
    mime_type VARCHAR(100),
    is_confidential BOOLEAN DEFAULT false,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    public_id VARCHAR(50) UNIQUE
        GENERATED ALWAYS AS ('mcr_' || substr(id::text, 1, 8)) STORED
);

CREATE TABLE file_uploads (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    user_id UUID REFERENCES users(id) ON DELETE CASCADE,
    file_name VARCHAR(255) NOT NULL,
    original_name VARCHAR(255) NOT NULL,
    file_path VARCHAR(500) NOT NULL,
    file_size BIGINT NOT NULL,
    mime_type VARCHAR(100) NOT NULL,
    file_hash VARCHAR(64) UNIQUE,
    upload_type VARCHAR(50) DEFAULT 'general'
        CHECK (upload_type IN ('general', 'medical', 'insurance', 'prescription',
                               'lab_result')),
    is_processed BOOLEAN DEFAULT false,
    metadata JSONB DEFAULT '{}',
    created_at TIMESTAMPTZ DEFAULT NOW(),
    public_id VARCHAR(50) UNIQUE
        GENERATED ALWAYS AS ('fil_' || substr(id::text, 1, 8)) STORED
);

CREATE TABLE insurance_claims (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    patient_id UUID REFERENCES patients(id) ON DELETE CASCADE,
    appointment_id UUID REFERENCES appointments(id) ON DELETE CASCADE,
    claim_number VARCHAR(50) UNIQUE NOT NULL,
    provider VARCHAR(100) NOT NULL,
    status VARCHAR(50) DEFAULT 'draft'
        CHECK (status IN ('draft', 'submitted', 'under_review', 'approved', 'rejected',
                          'paid')),
    amount DECIMAL(10, 2) NOT NULL,
    approved_amount DECIMAL(10, 2),
    rejection_reason TEXT,
    submitted_at TIMESTAMPTZ,
    approved_at TIMESTAMPTZ,
    paid_at TIMESTAMPTZ,
    claim_data JSONB DEFAULT '{}',
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    public_id VARCHAR(50) UNIQUE
        GENERATED ALWAYS AS ('clm_' || substr(id::text, 1, 8)) STORED
);

CREATE TABLE payments (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    appointment_id UUID REFERENCES appointments(id) ON DELETE CASCADE,
    patient_id UUID REFERENCES patients(id) ON DELETE CASCADE,
    amount DECIMAL(10, 2) NOT NULL,
    currency VARCHAR(3) DEFAULT 'SAR',
    payment_method VARCHAR(50) NOT NULL
        CHECK (payment_method IN ('cash', 'card', 'bank_transfer', 'stripe', 'moyasar',
                                  'insurance')),
    status VARCHAR(50) DEFAULT 'pending'
        CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'cancelled',
                          'refunded')),
    transaction_id VARCHAR(100),
    gateway_response JSONB DEFAULT '{}',
    paid_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    public_id VARCHAR(50) UNIQUE
        GENERATED ALWAYS AS ('pay_' || substr(id::text, 1, 8)) STORED
);

CREATE TABLE notifications (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    user_id UUID REFERENCES users(id) ON DELETE CASCADE,
    type VARCHAR(50) NOT NULL
        CHECK (type IN ('appointment', 'payment', 'reminder', 'system', 'emergency')),
    title VARCHAR(255) NOT NULL,
    message TEXT NOT NULL,
    channel VARCHAR(50) DEFAULT 'in_app'
        CHECK (channel IN ('in_app', 'email', 'sms', 'push')),
    status VARCHAR(50) DEFAULT 'pending'
        CHECK (status IN ('pending', 'sent', 'delivered', 'failed', 'read')),
    priority VARCHAR(20) DEFAULT 'normal'
        CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    scheduled_at TIMESTAMPTZ,
    sent_at TIMESTAMPTZ,
    read_at TIMESTAMPTZ,
    metadata JSONB DEFAULT '{}',
    created_at TIMESTAMPTZ DEFAULT NOW(),
    public_id VARCHAR(50) UNIQUE
        GENERATED ALWAYS AS ('ntf_' || substr(id::text, 1, 8)) STORED
);

CREATE TABLE notification_templates (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    name VARCHAR(100) UNIQUE NOT NULL,
    type VARCHAR(50) NOT NULL,
    language VARCHAR(10) DEFAULT 'ar',
    subject VARCHAR(255),
    body TEXT NOT NULL,
    variables JSONB DEFAULT '[]',
    is_active BOOLEAN DEFAULT true,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    public_id VARCHAR(50) UNIQUE
        GENERATED ALWAYS AS ('tpl_' || substr(id::text, 1, 8)) STORED
);

CREATE TABLE audit_logs (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    user_id UUID REFERENCES users(id) ON DELETE SET NULL,
    action VARCHAR(100) NOT NULL,
    entity_type VARCHAR(50) NOT NULL,
    entity_id UUID,
    old_values JSONB,
    new_values JSONB,
    ip_address INET,
    user_agent TEXT,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    public_id VARCHAR(50) UNIQUE
        GENERATED ALWAYS AS ('aud_' || substr(id::text, 1, 8)) STORED
);

CREATE TABLE system_settings (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    key VARCHAR(100) UNIQUE NOT NULL,
    value JSONB NOT NULL,
    type VARCHAR(50) DEFAULT 'string'
        CHECK (type IN ('string', 'number', 'boolean', 'object', 'array')),
    description TEXT,
    is_public BOOLEAN DEFAULT false,
    category VARCHAR(50) DEFAULT 'general',
    updated_by UUID REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    public_id VARCHAR(50) UNIQUE
        GENERATED ALWAYS AS ('set_' || substr(id::text, 1, 8)) STORED
);

CREATE TABLE languages (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    code VARCHAR(10) UNIQUE NOT NULL,
    name VARCHAR(100) NOT NULL,
    native_name VARCHAR(100) NOT NULL,
    direction VARCHAR(10) DEFAULT 'rtl' CHECK (direction IN ('ltr', 'rtl')),
    is_default BOOLEAN DEFAULT false,
    is_active BOOLEAN DEFAULT true,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    public_id VARCHAR(50) UNIQUE
        GENERATED ALWAYS AS ('lng_' || substr(id::text, 1, 8)) STORED
);

CREATE TABLE translations (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    language_code VARCHAR(10) REFERENCES languages(code) ON DELETE CASCADE,
    key VARCHAR(255) NOT NULL,
    value TEXT NOT NULL,
    namespace VARCHAR(100) DEFAULT 'common',
    is_approved BOOLEAN DEFAULT false,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    public_id VARCHAR(50) UNIQUE
        GENERATED ALWAYS AS ('trn_' || substr(id::text, 1, 8)) STORED,
    UNIQUE (language_code, key, namespace)
);

CREATE TABLE reports (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    name VARCHAR(255) NOT NULL,
    type VARCHAR(50) NOT NULL
        CHECK (type IN ('dashboard_metrics', 'patient_statistics', 'financial_report',
                        'appointment_analytics', 'custom')),
    generated_by UUID REFERENCES users(id) ON DELETE SET NULL,
    parameters JSONB DEFAULT '{}',
    data JSONB NOT NULL,
    file_path VARCHAR(500),
    status VARCHAR(50) DEFAULT 'completed'
        CHECK (status IN ('generating', 'completed', 'failed')),
    generated_at TIMESTAMPTZ DEFAULT NOW(),
    expires_at TIMESTAMPTZ,
    public_id VARCHAR(50) UNIQUE
        GENERATED ALWAYS AS ('rpt_' || substr(id::text, 1, 8)) STORED
);

CREATE TABLE system_metrics (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    metric_key VARCHAR(100) NOT NULL,
    metric_value DECIMAL(15, 4) NOT NULL,
    metric_unit VARCHAR(20),
    metadata JSONB DEFAULT '{}',
    recorded_at TIMESTAMPTZ DEFAULT NOW(),
    public_id VARCHAR(50) UNIQUE
        GENERATED ALWAYS AS ('mtr_' || substr(id::text, 1, 8)) STORED
);

CREATE TABLE chatbot_flows (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    name VARCHAR(255) NOT NULL,
    description TEXT,
    trigger_keywords TEXT[],
    is_active BOOLEAN DEFAULT true,
    flow_data JSONB NOT NULL,
    created_by UUID REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    public_id VARCHAR(50) UNIQUE
        GENERATED ALWAYS AS ('flw_' || substr(id::text, 1, 8)) STORED
);

CREATE TABLE chatbot_conversations (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    user_id UUID REFERENCES users(id) ON DELETE CASCADE,
    session_id VARCHAR(100) NOT NULL,
    flow_id UUID REFERENCES chatbot_flows(id) ON DELETE SET NULL,
    status VARCHAR(50) DEFAULT 'active'
        CHECK (status IN ('active', 'completed', 'abandoned')),
    started_at TIMESTAMPTZ DEFAULT NOW(),
    ended_at TIMESTAMPTZ,
    metadata JSONB DEFAULT '{}',
    public_id VARCHAR(50) UNIQUE
        GENERATED ALWAYS AS ('cnv_' || substr(id::text, 1, 8)) STORED
);

CREATE TABLE chatbot_messages (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    conversation_id UUID REFERENCES chatbot_conversations(id) ON DELETE CASCADE,
    sender_type VARCHAR(20) NOT NULL CHECK (sender_type IN ('user', 'bot', 'system')),
    message TEXT NOT NULL,
    message_type VARCHAR(50) DEFAULT 'text'
        CHECK (message_type IN ('text', 'image', 'file', 'button', 'quick_reply')),
    metadata JSONB DEFAULT '{}',
    created_at TIMESTAMPTZ DEFAULT NOW(),
    public_id VARCHAR(50) UNIQUE
        GENERATED ALWAYS AS ('msg_' || substr(id::text, 1, 8)) STORED
);

CREATE TABLE crm_leads (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    name VARCHAR(255) NOT NULL,
    email VARCHAR(255),
    phone VARCHAR(20),
    source VARCHAR(100),
    status VARCHAR(50) DEFAULT 'new'
        CHECK (status IN ('new', 'contacted', 'qualified', 'proposal', 'negotiation',
                          'closed_won', 'closed_lost')),
    priority VARCHAR(20) DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high')),
    assigned_to UUID REFERENCES users(id) ON DELETE SET NULL,
    notes TEXT,
    metadata JSONB DEFAULT '{}',
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    public_id VARCHAR(50) UNIQUE
        GENERATED ALWAYS AS ('led_' || substr(id::text, 1, 8)) STORED
);

CREATE TABLE crm_activities (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    lead_id UUID REFERENCES crm_leads(id) ON DELETE CASCADE,
    user_id UUID REFERENCES users(id) ON DELETE CASCADE,
    activity_type VARCHAR(50) NOT NULL
        CHECK (activity_type IN ('call', 'email', 'meeting', 'note', 'task')),
    subject VARCHAR(255) NOT NULL,
    description TEXT,
    scheduled_at TIMESTAMPTZ,
    completed_at TIMESTAMPTZ,
    status VARCHAR(50) DEFAULT 'pending'
        CHECK (status IN ('pending', 'completed', 'cancelled')),
    created_at TIMESTAMPTZ DEFAULT NOW(),
    public_id VARCHAR(50) UNIQUE
        GENERATED ALWAYS AS ('act_' || substr(id::text, 1, 8)) STORED
);

-- Indexes (names as in the platform's file).

CREATE INDEX idx_users_email ON users(email);
CREATE INDEX idx_users_role ON users(role);
CREATE INDEX idx_users_active ON users(is_active);
CREATE INDEX idx_users_created_at ON users(created_at);

CREATE INDEX idx_patients_user_id ON patients(user_id);
CREATE INDEX idx_patients_medical_record ON patients(medical_record_number);
CREATE INDEX idx_patients_phone ON patients(phone);
CREATE INDEX idx_patients_activated ON patients(is_activated);

CREATE INDEX idx_doctors_user_id ON doctors(user_id);
CREATE INDEX idx_doctors_license ON doctors(license_number);
CREATE INDEX idx_doctors_speciality ON doctors(speciality);
CREATE INDEX idx_doctors_available ON doctors(is_available);

CREATE INDEX idx_appointments_patient_id ON appointments(patient_id);
CREATE INDEX idx_appointments_doctor_id ON appointments(doctor_id);
CREATE INDEX idx_appointments_scheduled_at ON appointments(scheduled_at);
CREATE INDEX idx_appointments_status ON appointments(status);
CREATE INDEX idx_appointments_payment_status ON appointments(payment_status);

CREATE INDEX idx_medical_records_patient_id ON medical_records(patient_id);
CREATE INDEX idx_medical_records_doctor_id ON medical_records(doctor_id);
CREATE INDEX idx_medical_records_type ON medical_records(record_type);
CREATE INDEX idx_medical_records_created_at ON medical_records(created_at);

CREATE INDEX idx_notifications_user_id ON notifications(user_id);
CREATE INDEX idx_notifications_type ON notifications(type);
CREATE INDEX idx_notifications_status ON notifications(status);
CREATE INDEX idx_notifications_created_at ON notifications(created_at);

CREATE INDEX idx_audit_logs_user_id ON audit_logs(user_id);
CREATE INDEX idx_audit_logs_action ON audit_logs(action);
CREATE INDEX idx_audit_logs_entity_type ON audit_logs(entity_type);
CREATE INDEX idx_audit_logs_created_at ON audit_logs(created_at);

CREATE INDEX idx_translations_language_code ON translations(language_code);
CREATE INDEX idx_translations_key ON translations(key);
CREATE INDEX idx_translations_namespace ON translations(namespace);

CREATE INDEX idx_reports_type ON reports(type);
CREATE INDEX idx_reports_generated_by ON reports(generated_by);
CREATE INDEX idx_reports_generated_at ON reports(generated_at);

-- Row level security: 7 tables, 8 policies (SELECT only; table owners bypass RLS).

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE patients ENABLE ROW LEVEL SECURITY;
ALTER TABLE doctors ENABLE ROW LEVEL SECURITY;
ALTER TABLE appointments ENABLE ROW LEVEL SECURITY;
ALTER TABLE medical_records ENABLE ROW LEVEL SECURITY;
ALTER TABLE notifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_logs ENABLE ROW LEVEL SECURITY;

CREATE POLICY "Users can view own data" ON users
    FOR SELECT USING (auth.uid() = id);

CREATE POLICY "Patients can view own data" ON patients
    FOR SELECT USING (auth.uid() = user_id);

CREATE POLICY "Doctors can view own data" ON doctors
    FOR SELECT USING (auth.uid() = user_id);

CREATE POLICY "Patients can view own appointments" ON appointments
    FOR SELECT USING (
        patient_id IN (SELECT id FROM patients WHERE user_id = auth.uid())
    );

CREATE POLICY "Doctors can view their appointments" ON appointments
    FOR SELECT USING (
        doctor_id IN (SELECT id FROM doctors WHERE user_id = auth.uid())
    );

CREATE POLICY "Patients can view own medical records" ON medical_records
    FOR SELECT USING (
        patient_id IN (SELECT id FROM patients WHERE user_id = auth.uid())
    );

CREATE POLICY "Doctors can view patient medical records" ON medical_records
    FOR SELECT USING (
        doctor_id IN (SELECT id FROM doctors WHERE user_id = auth.uid())
    );

CREATE POLICY "Users can view own notifications" ON notifications
    FOR SELECT USING (auth.uid() = user_id);

-- updated_at maintenance: one function, 12 BEFORE UPDATE triggers.

CREATE FUNCTION update_updated_at_column() RETURNS TRIGGER AS $$
BEGIN
    NEW.updated_at = NOW();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER update_users_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_patients_updated_at BEFORE UPDATE ON patients
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_doctors_updated_at BEFORE UPDATE ON doctors
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_appointments_updated_at BEFORE UPDATE ON appointments
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_medical_records_updated_at BEFORE UPDATE ON medical_records
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_insurance_claims_updated_at BEFORE UPDATE ON insurance_claims
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_payments_updated_at BEFORE UPDATE ON payments
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_notification_templates_updated_at BEFORE UPDATE ON notification_templates
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_system_settings_updated_at BEFORE UPDATE ON system_settings
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_translations_updated_at BEFORE UPDATE ON translations
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_chatbot_flows_updated_at BEFORE UPDATE ON chatbot_flows
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_crm_leads_updated_at BEFORE UPDATE ON crm_leads
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- Views.

CREATE VIEW patient_dashboard AS
SELECT
    p.id,
    p.public_id,
    p.full_name,
    p.medical_record_number,
    p.phone,
    p.email,
    p.is_activated,
    p.insurance_provider,
    p.insurance_number,
    u.last_login,
    COUNT(a.id) AS total_appointments,
    COUNT(CASE WHEN a.status = 'completed' THEN 1 END) AS completed_appointments,
    COUNT(CASE WHEN a.status = 'pending' THEN 1 END) AS pending_appointments
FROM patients p
LEFT JOIN users u ON p.user_id = u.id
LEFT JOIN appointments a ON p.id = a.patient_id
GROUP BY p.id, p.public_id, p.full_name, p.medical_record_number, p.phone, p.email,
         p.is_activated, p.insurance_provider, p.insurance_number, u.last_login;

CREATE VIEW doctor_dashboard AS
SELECT
    d.id,
    d.public_id,
    d.full_name,
    d.speciality,
    d.license_number,
    d.phone,
    d.email,
    d.consultation_fee,
    d.rating,
    d.total_reviews,
    d.is_available,
    u.last_login,
    COUNT(a.id) AS total_appointments,
    COUNT(CASE WHEN a.status = 'completed' THEN 1 END) AS completed_appointments,
    COUNT(CASE WHEN a.status = 'pending' THEN 1 END) AS pending_appointments
FROM doctors d
LEFT JOIN users u ON d.user_id = u.id
LEFT JOIN appointments a ON d.id = a.doctor_id
GROUP BY d.id, d.public_id, d.full_name, d.speciality, d.license_number, d.phone, d.email,
         d.consultation_fee, d.rating, d.total_reviews, d.is_available, u.last_login;

CREATE VIEW appointment_details AS
SELECT
    a.id,
    a.public_id,
    a.scheduled_at,
    a.duration_minutes,
    a.type,
    a.status,
    a.payment_status,
    a.payment_method,
    a.notes,
    a.diagnosis,
    a.prescription,
    p.full_name AS patient_name,
    p.medical_record_number,
    p.phone AS patient_phone,
    d.full_name AS doctor_name,
    d.speciality,
    d.license_number
FROM appointments a
LEFT JOIN patients p ON a.patient_id = p.id
LEFT JOIN doctors d ON a.doctor_id = d.id;
