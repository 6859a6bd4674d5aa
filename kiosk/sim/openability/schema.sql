-- Simulated open-ability back-end (seeds 000 + 001).
-- Times are UTC text "YYYY-MM-DD HH:MM:SS" (sorts as it reads); times of day are "HH:MM".

CREATE TABLE IF NOT EXISTS oa_room_type (
    room_type_id TEXT PRIMARY KEY,
    name         TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS oa_residence (
    residence_id  TEXT PRIMARY KEY,        -- "r" + 32 hex
    residence_no  TEXT NOT NULL,
    building_name TEXT NOT NULL,
    family_name   TEXT NOT NULL,
    room_type_id  TEXT NOT NULL REFERENCES oa_room_type (room_type_id)
);

CREATE TABLE IF NOT EXISTS oa_order (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,  -- creation order, for stable paging
    order_id       TEXT NOT NULL UNIQUE,
    order_number   TEXT NOT NULL UNIQUE,
    residence_id   TEXT NOT NULL REFERENCES oa_residence (residence_id),
    room_type_id   TEXT NOT NULL REFERENCES oa_room_type (room_type_id),
    start_time     TEXT NOT NULL,
    finish_time    TEXT NOT NULL,
    order_state    TEXT NOT NULL CHECK (order_state IN ('check_in', 'checked_in', 'checked_out')),
    source         TEXT NOT NULL DEFAULT '',
    remark         TEXT NOT NULL DEFAULT '',
    enable_booking INTEGER NOT NULL DEFAULT 0,
    CHECK (finish_time > start_time)
);
CREATE INDEX IF NOT EXISTS oa_order_residence ON oa_order (residence_id, start_time);

CREATE TABLE IF NOT EXISTS oa_guest (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    guest_id   TEXT NOT NULL UNIQUE,
    order_id   TEXT NOT NULL REFERENCES oa_order (order_id) ON DELETE CASCADE,
    guest_name TEXT NOT NULL,
    email      TEXT NOT NULL DEFAULT '',
    phone      TEXT NOT NULL DEFAULT '',
    id_card    TEXT NOT NULL DEFAULT '',
    passport   TEXT NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS oa_amenity (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    amenity_id        TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    picture_url       TEXT NOT NULL DEFAULT '',
    description       TEXT NOT NULL DEFAULT '',
    open_time         TEXT NOT NULL,            -- the daily bookable window, "HH:MM"
    close_time        TEXT NOT NULL,
    requires_approval INTEGER NOT NULL DEFAULT 0, -- new bookings start "pending"
    CHECK (close_time > open_time)
);

-- Daily slots inside the window that cannot be booked (cleaning, maintenance).
CREATE TABLE IF NOT EXISTS oa_amenity_closed (
    amenity_id  TEXT NOT NULL REFERENCES oa_amenity (amenity_id) ON DELETE CASCADE,
    start_time  TEXT NOT NULL,
    finish_time TEXT NOT NULL,
    CHECK (finish_time > start_time)
);

CREATE TABLE IF NOT EXISTS oa_booking (
    booking_id   TEXT PRIMARY KEY,
    residence_id TEXT NOT NULL REFERENCES oa_residence (residence_id),
    amenity_id   TEXT NOT NULL REFERENCES oa_amenity (amenity_id),
    start_time   TEXT NOT NULL,
    finish_time  TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'rejected', 'canceled', 'success')),
    pin_code     TEXT NOT NULL,
    qr_code_url  TEXT NOT NULL,
    created_time TEXT NOT NULL,
    CHECK (finish_time > start_time)
);
CREATE INDEX IF NOT EXISTS oa_booking_amenity ON oa_booking (amenity_id, start_time);
CREATE INDEX IF NOT EXISTS oa_booking_residence ON oa_booking (residence_id, start_time);

-- Codes handed to guests (QR); claiming one books its slot, once.
CREATE TABLE IF NOT EXISTS oa_booking_code (
    booking_code TEXT PRIMARY KEY,
    residence_id TEXT NOT NULL REFERENCES oa_residence (residence_id),
    amenity_id   TEXT NOT NULL REFERENCES oa_amenity (amenity_id),
    start_time   TEXT NOT NULL,
    duration     INTEGER NOT NULL,
    claimed_time TEXT                           -- NULL until claimed
);
