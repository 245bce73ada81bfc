// Hand-kept: one schema for both backends, matching migrations/sqlite and migrations/postgres.

diesel::table! {
    users (id) {
        id -> BigInt,
        kind -> Text,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        api_key_hash -> Nullable<Text>,
        disabled -> Bool,
        sees_all_tickets -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_login_at -> Nullable<Timestamp>,
        affise_id -> Nullable<Text>,
    }
}

diesel::table! {
    affiliates (id) {
        id -> BigInt,
        email -> Text,
        login -> Text,
        name -> Text,
        status -> Text,
        manager_id -> Nullable<BigInt>,
        password_hash -> Text,
        api_key_hash -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        affise_id -> Nullable<Text>,
        disabled -> Bool,
    }
}

diesel::table! {
    offers (id) {
        id -> BigInt,
        title -> Text,
        privacy -> Text,
        status -> Text,
        payout -> BigInt,
        currency -> Text,
        preview_url -> Text,
        created_at -> Timestamp,
        affise_id -> Nullable<Text>,
    }
}

diesel::table! {
    smartlinks (id) {
        id -> BigInt,
        name -> Text,
        privacy -> Text,
        created_at -> Timestamp,
        affise_id -> Nullable<Text>,
    }
}

diesel::table! {
    offer_access (offer_id, affiliate_id) {
        offer_id -> BigInt,
        affiliate_id -> BigInt,
        state -> Text,
        source -> Text,
        updated_at -> Timestamp,
        updated_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    smartlink_access (smartlink_id, affiliate_id) {
        smartlink_id -> BigInt,
        affiliate_id -> BigInt,
        state -> Text,
        source -> Text,
        updated_at -> Timestamp,
        updated_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    tickets (id) {
        id -> BigInt,
        affiliate_id -> BigInt,
        manager_id -> Nullable<BigInt>,
        #[sql_name = "type"]
        kind -> Text,
        status -> Text,
        request_state -> Nullable<Text>,
        offer_id -> Nullable<BigInt>,
        smartlink_id -> Nullable<BigInt>,
        title -> Text,
        description -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        manager_answers -> Integer,
        affiliate_messages -> Integer,
        unread_by_manager -> Integer,
        unread_by_affiliate -> Integer,
        waiting_since -> Nullable<Timestamp>,
        last_author_kind -> Nullable<Text>,
        last_preview -> Nullable<Text>,
        first_answer_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    messages (id) {
        id -> BigInt,
        ticket_id -> BigInt,
        author_kind -> Text,
        author_id -> Nullable<BigInt>,
        body -> Text,
        internal -> Bool,
        created_at -> Timestamp,
        submission -> Nullable<Text>,
    }
}

diesel::table! {
    attachments (id) {
        id -> BigInt,
        message_id -> BigInt,
        file_name -> Text,
        content_type -> Text,
        size -> BigInt,
        sha256 -> Text,
        storage_key -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    reply_templates (id) {
        id -> BigInt,
        title -> Text,
        body -> Text,
        created_by -> Nullable<BigInt>,
        updated_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    daily_stats (affiliate_id, day, offer_id) {
        day -> Date,
        affiliate_id -> BigInt,
        offer_id -> BigInt,
        clicks -> BigInt,
        unique_clicks -> BigInt,
        conversions -> BigInt,
        payout -> BigInt,
        revenue -> BigInt,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        actor_kind -> Text,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        ticket_id -> Nullable<BigInt>,
        detail -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        state -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        user_id -> Nullable<BigInt>,
        affiliate_id -> Nullable<BigInt>,
    }
}

diesel::joinable!(affiliates -> users (manager_id));
diesel::joinable!(tickets -> affiliates (affiliate_id));
diesel::joinable!(tickets -> offers (offer_id));
diesel::joinable!(tickets -> smartlinks (smartlink_id));
diesel::joinable!(messages -> tickets (ticket_id));
diesel::joinable!(attachments -> messages (message_id));
diesel::joinable!(offer_access -> offers (offer_id));
diesel::joinable!(offer_access -> affiliates (affiliate_id));
diesel::joinable!(smartlink_access -> smartlinks (smartlink_id));
diesel::joinable!(smartlink_access -> affiliates (affiliate_id));
diesel::joinable!(daily_stats -> affiliates (affiliate_id));
diesel::joinable!(daily_stats -> offers (offer_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(sessions -> affiliates (affiliate_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    affiliates,
    offers,
    smartlinks,
    offer_access,
    smartlink_access,
    tickets,
    messages,
    attachments,
    reply_templates,
    daily_stats,
    audit_log,
    sessions,
    ticket_counts,
);

diesel::table! {
    ticket_counts (manager_id, status, kind) {
        manager_id -> BigInt,
        status -> Text,
        #[sql_name = "type"]
        kind -> Text,
        n -> BigInt,
    }
}

diesel::table! {
    /// Every word of every search document (see domain/search.rs).
    search_terms (term) {
        term -> Text,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        account -> Text,
        address -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    /// Email notifications waiting to be sent, sent, or failed (domain/outbox.rs).
    outbox (id) {
        id -> BigInt,
        event -> Text,
        ticket_id -> BigInt,
        ticket_title -> Text,
        recipient_kind -> Text,
        recipient_id -> BigInt,
        recipient_name -> Text,
        recipient_email -> Text,
        actor_name -> Text,
        body -> Text,
        link_path -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        outcome -> Nullable<Text>,
        ticket_count -> Integer,
    }
}

diesel::table! {
    notification_optouts (recipient_kind, recipient_id, event) {
        recipient_kind -> Text,
        recipient_id -> BigInt,
        event -> Text,
    }
}

diesel::table! {
    /// Changes to tickets for the browsers watching them (domain/live.rs).
    live_events (id) {
        id -> BigInt,
        kind -> Text,
        ticket_id -> BigInt,
        affiliate_id -> BigInt,
        manager_id -> Nullable<BigInt>,
        staff_only -> Bool,
        actor_kind -> Text,
        actor_id -> Nullable<BigInt>,
        actor_name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Invitations and password resets (domain/accounts.rs).
    account_tokens (id) {
        id -> BigInt,
        token_hash -> Text,
        purpose -> Text,
        account_kind -> Text,
        account_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Access decisions on their way to Affise (domain/affise_push.rs).
    affise_pushes (id) {
        id -> BigInt,
        ticket_id -> Nullable<BigInt>,
        action -> Text,
        offer_id -> BigInt,
        affiliate_id -> BigInt,
        affise_offer_id -> Text,
        affise_partner_id -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        done_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Where each part of the directory sync stands (domain/directory_sync.rs).
    affise_sync (part) {
        part -> Text,
        last_started_at -> Nullable<Timestamp>,
        last_ok_at -> Nullable<Timestamp>,
        last_full_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        items -> BigInt,
    }
}

diesel::table! {
    /// Holiday cover: a manager's affiliates with a colleague until a day (domain/covers.rs).
    covers (id) {
        id -> BigInt,
        absent_id -> BigInt,
        cover_id -> BigInt,
        until -> Timestamp,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        returned_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// The affiliates a cover took, to give the same ones back.
    cover_affiliates (cover_id, affiliate_id) {
        cover_id -> BigInt,
        affiliate_id -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(cover_affiliates, affiliates);
