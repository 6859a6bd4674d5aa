-- The simulated PMS (seed 004). Money is TEXT holding a decimal string ("100.00"),
-- never REAL; times are Unix seconds (UTC). Order status and a stay's checkout
-- status are derived from the stays and the order's `settled` flag, never stored twice.

CREATE TABLE IF NOT EXISTS pms_property (
    pms_id   INTEGER PRIMARY KEY,
    timezone TEXT NOT NULL  -- the property's zone: "today" for check-in, local dates
);

CREATE TABLE IF NOT EXISTS pms_room_type (
    room_type_id INTEGER PRIMARY KEY,
    pms_id       INTEGER NOT NULL REFERENCES pms_property (pms_id),
    name         TEXT NOT NULL,
    short_name   TEXT NOT NULL,
    price        TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS pms_room (
    room_id       INTEGER PRIMARY KEY,
    pms_id        INTEGER NOT NULL REFERENCES pms_property (pms_id),
    room_type_id  INTEGER NOT NULL REFERENCES pms_room_type (room_type_id),
    name          TEXT NOT NULL,
    floor         INTEGER NOT NULL,
    building      INTEGER NOT NULL DEFAULT 1,
    area_id       INTEGER NOT NULL DEFAULT 0,
    child_room_no TEXT NOT NULL DEFAULT '',
    sort          INTEGER NOT NULL DEFAULT 0,
    is_dirty      INTEGER NOT NULL DEFAULT 0 CHECK (is_dirty IN (0, 1)),
    lock_type     INTEGER CHECK (lock_type IN (10, 20)),  -- NULL: the room has no lock
    device_no     TEXT,
    has_gateway   INTEGER NOT NULL DEFAULT 0 CHECK (has_gateway IN (0, 1))
);

-- Consumption items (consume_id) and payment methods (pay_id): the PMS's catalogues.
CREATE TABLE IF NOT EXISTS pms_consume_item (
    consume_id INTEGER PRIMARY KEY,
    name       TEXT NOT NULL
);
INSERT OR IGNORE INTO pms_consume_item (consume_id, name) VALUES
    (1, 'Minibar 酒水'), (2, 'Breakfast 早餐'), (3, 'Laundry 洗衣'), (4, 'Parking 停车');

CREATE TABLE IF NOT EXISTS pms_pay_method (
    pay_id INTEGER PRIMARY KEY,
    name   TEXT NOT NULL
);
INSERT OR IGNORE INTO pms_pay_method (pay_id, name) VALUES
    (1, 'Cash 现金'), (2, 'Bank card 银行卡'), (3, 'WeChat Pay 微信'), (4, 'Alipay 支付宝'),
    (5, 'Kiosk terminal 自助机');

CREATE TABLE IF NOT EXISTS pms_order (
    order_id     INTEGER PRIMARY KEY,
    pms_id       INTEGER NOT NULL REFERENCES pms_property (pms_id),
    order_no     TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL DEFAULT '',
    phone        TEXT NOT NULL DEFAULT '',
    remark       TEXT NOT NULL DEFAULT '',
    color        TEXT NOT NULL DEFAULT '',
    images       TEXT NOT NULL DEFAULT '[]',  -- JSON list of strings
    created_at   INTEGER NOT NULL,
    created_name TEXT NOT NULL,
    settled      INTEGER NOT NULL DEFAULT 0 CHECK (settled IN (0, 1))
);

-- One stay ("accom") of an order. room_id NULL: not assigned yet (the API's room_id 0).
CREATE TABLE IF NOT EXISTS pms_accom (
    accom_id        INTEGER PRIMARY KEY,
    order_id        INTEGER NOT NULL REFERENCES pms_order (order_id),
    room_type_id    INTEGER NOT NULL REFERENCES pms_room_type (room_type_id),
    room_id         INTEGER REFERENCES pms_room (room_id),
    accom_type      INTEGER NOT NULL,
    start_time      INTEGER NOT NULL,
    end_time        INTEGER NOT NULL CHECK (end_time > start_time),
    amount          TEXT NOT NULL,
    is_custom_price INTEGER NOT NULL DEFAULT 2,
    accom_status    INTEGER NOT NULL CHECK (accom_status IN (40, 50, 70, 80)),
    penalty_amount  TEXT NOT NULL DEFAULT '0.00',
    checkout_fee    TEXT NOT NULL DEFAULT '0.00',
    checked_in_at   INTEGER,
    checked_out_at  INTEGER
);
CREATE INDEX IF NOT EXISTS pms_accom_room ON pms_accom (room_id, accom_status);
CREATE INDEX IF NOT EXISTS pms_accom_order ON pms_accom (order_id);

CREATE TABLE IF NOT EXISTS pms_tenant (
    tenant_id  INTEGER PRIMARY KEY,
    accom_id   INTEGER NOT NULL REFERENCES pms_accom (accom_id),
    name       TEXT NOT NULL DEFAULT '',
    phone      TEXT NOT NULL DEFAULT '',
    id_type    INTEGER NOT NULL,
    id_number  TEXT NOT NULL DEFAULT '',
    gender     INTEGER NOT NULL DEFAULT 0,
    birthday   TEXT NOT NULL DEFAULT '',
    car_number TEXT NOT NULL DEFAULT '',
    area       TEXT NOT NULL DEFAULT '[]',  -- JSON list of region codes
    address    TEXT NOT NULL DEFAULT '',
    email      TEXT NOT NULL DEFAULT ''
);

-- Consumption bills (kind 'consume', on a stay) and cashier entries (kind 'cash', on the
-- order; bill_type 10 payment, 20 refund). Status 10 unsettled, 20 settled, 70 reversed.
CREATE TABLE IF NOT EXISTS pms_bill (
    bill_id    INTEGER PRIMARY KEY,
    order_id   INTEGER NOT NULL REFERENCES pms_order (order_id),
    accom_id   INTEGER REFERENCES pms_accom (accom_id),
    kind       TEXT NOT NULL CHECK (kind IN ('consume', 'cash')),
    bill_type  INTEGER,
    consume_id INTEGER,
    pay_id     INTEGER,
    name       TEXT NOT NULL,
    bill_date  TEXT NOT NULL,  -- YYYY-MM-DD
    price      TEXT NOT NULL,
    num        INTEGER NOT NULL,
    amount     TEXT NOT NULL,
    status     INTEGER NOT NULL DEFAULT 10,
    remark     TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS pms_bill_order ON pms_bill (order_id, kind);

CREATE TABLE IF NOT EXISTS pms_reminder (
    remind_id   INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES pms_order (order_id),
    remind_date INTEGER NOT NULL,
    content     TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS pms_log (
    log_id     INTEGER PRIMARY KEY,
    order_id   INTEGER NOT NULL REFERENCES pms_order (order_id),
    accom_id   INTEGER,
    log_type   INTEGER NOT NULL,
    event_type INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    event_data TEXT NOT NULL  -- JSON object
);
CREATE INDEX IF NOT EXISTS pms_log_order ON pms_log (order_id);

-- AUTOINCREMENT: a deleted password's or e-key's id is never given again (as a PMS's own
-- ids are not), so the outbox can tell a replayed deletion from a new row.
CREATE TABLE IF NOT EXISTS pms_password (
    pwd_id       INTEGER PRIMARY KEY AUTOINCREMENT,
    accom_id     INTEGER NOT NULL REFERENCES pms_accom (accom_id),
    keyboard_pwd TEXT NOT NULL,
    start_time   INTEGER NOT NULL,
    end_time     INTEGER NOT NULL,
    phone_list   TEXT NOT NULL  -- JSON list of {country_code, phone}
);

CREATE TABLE IF NOT EXISTS pms_access_key (
    key_id           INTEGER PRIMARY KEY AUTOINCREMENT,
    accom_id         INTEGER NOT NULL REFERENCES pms_accom (accom_id),
    receiver_name    TEXT NOT NULL,
    receiver_account TEXT NOT NULL,
    country_code     TEXT NOT NULL,
    start_time       INTEGER NOT NULL,
    end_time         INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS pms_card (
    card_id    INTEGER PRIMARY KEY,
    accom_id   INTEGER NOT NULL REFERENCES pms_accom (accom_id),
    card_uid   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (accom_id, card_uid)
);

CREATE TABLE IF NOT EXISTS pms_unlock (
    unlock_id   INTEGER PRIMARY KEY,
    accom_id    INTEGER NOT NULL REFERENCES pms_accom (accom_id),
    unlocked_at INTEGER NOT NULL
);
