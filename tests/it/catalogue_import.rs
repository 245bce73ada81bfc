//! The network's catalogue and its CSV imports through the panel: offers and
//! Smartlinks with their privacy in Affise's words and who has access (how, when,
//! by whom), access given and taken by hand (pushed to Affise for an offer from
//! there), managers kept to their own affiliates; an import previewed line by line,
//! refused whole when a line is wrong, applied once, and idempotent.

use affdesk::domain::affise_push::PushAction;
use affdesk::domain::states::{AccessGrant, AccessSource, AffiliateStatus, AuditAction, Privacy, PushState};

use crate::db_test;

db_test!(offers_show_who_has_access_and_staff_change_it_by_hand, |app| {
    app.seed_demo();
    let own = app.affiliates_with(&app.staff("manager1@affdesk.test"))[0].id;
    let other = app.affiliates_with(&app.staff("manager2@affdesk.test"))[0].id;
    let mut admin = app.login_admin("admin@affdesk.test").await;
    let list = admin.get("/admin/offers").await;
    assert_eq!(list.status, 200);
    assert!(list.contains("protected") || list.contains("private"), "privacy in Affise's words");
    // Wrong fields are named next to the field; nothing is added.
    admin.get("/admin/offers/new").await;
    let offers_before = app.all_offers().len();
    let refused = admin
        .post(
            "/admin/offers",
            &[("name", ""), ("privacy", "secret"), ("status", "active"), ("payout", "1.234"), ("currency", "dollars")],
        )
        .await;
    assert_eq!(refused.status, 422);
    for field in ["item-name-error", "item-privacy-error", "item-payout-error", "item-currency-error"] {
        assert!(refused.contains(&format!("id=\"{field}\"")), "{field}: {}", refused.body);
    }
    assert_eq!(app.all_offers().len(), offers_before);
    let made = admin
        .post(
            "/admin/offers",
            &[
                ("name", "Crypto <Wallet> CPA"),
                ("privacy", "private"),
                ("status", "active"),
                ("payout", "12.5"),
                ("currency", "eur"),
                ("preview_url", "https://wallet.example/landing"),
            ],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    let made_offer = app.all_offers().pop().expect("the new offer");
    let offer = made_offer.id;
    assert_eq!(made.location.as_deref(), Some(format!("/admin/offers/{offer}").as_str()));
    assert_eq!((made_offer.privacy, made_offer.currency.as_str(), made_offer.payout), (Privacy::Private, "EUR", 1250));
    let page = admin.get(&format!("/admin/offers/{offer}")).await;
    assert!(page.contains("Crypto &lt;Wallet&gt; CPA") || page.contains("Crypto &#60;Wallet&#62; CPA"));
    assert!(page.contains("No affiliate has been given or refused access"));
    // Given by hand: the row says how, when and by whom; the audit log too.
    let given = admin
        .post(&format!("/admin/offers/{offer}/access"), &[("affiliate_id", &own.to_string()), ("state", "enabled")])
        .await;
    assert_eq!(given.status, 303);
    assert_eq!(app.offer_access(offer, own), Some((AccessGrant::Enabled, AccessSource::Manual)));
    let page = admin.get(&format!("/admin/offers/{offer}")).await;
    assert!(page.contains(&format!("id=\"access-{own}\"")) && page.contains("by hand"), "{}", page.body);
    assert!(page.contains("Has access") && page.contains("Admin"));
    assert_eq!(app.audited(AuditAction::GrantAccess, None), 1);
    // The list counts it.
    let list = admin.get("/admin/offers").await;
    assert!(list.contains(&format!("id=\"offers-{offer}\"")));
    // A manager sees their own affiliates' access only and cannot reach another's.
    app.granted(offer, other, AccessSource::Ticket);
    let mut manager = app.login_admin("manager1@affdesk.test").await;
    let seen = manager.get(&format!("/admin/offers/{offer}")).await;
    assert_eq!(seen.status, 200);
    assert!(seen.contains(&format!("id=\"access-{own}\"")));
    assert!(!seen.contains(&format!("id=\"access-{other}\"")), "another manager's affiliate is not shown");
    assert!(!seen.contains("name=\"payout\""), "managers do not edit offers");
    let not_theirs = manager
        .post(&format!("/admin/offers/{offer}/access"), &[("affiliate_id", &other.to_string()), ("state", "disabled")])
        .await;
    assert_eq!(not_theirs.status, 303);
    assert!(
        manager
            .get(&format!("/admin/offers/{offer}"))
            .await
            .contains(&format!("There is no affiliate #{other} of yours."))
    );
    assert_eq!(app.offer_access(offer, other), Some((AccessGrant::Enabled, AccessSource::Ticket)));
    let taken = manager
        .post(&format!("/admin/offers/{offer}/access"), &[("affiliate_id", &own.to_string()), ("state", "disabled")])
        .await;
    assert_eq!(taken.status, 303);
    assert_eq!(app.offer_access(offer, own), Some((AccessGrant::Disabled, AccessSource::Manual)));
    assert_eq!(manager.post("/admin/offers", &[("name", "Mine")]).await.status, 403);
    assert_eq!(manager.get("/admin/offers/new").await.status, 403);
    assert_eq!(manager.get("/admin/offers/999999").await.status, 404);
    // An offer and an affiliate from Affise: a change by hand is pushed, once, in its transaction.
    app.known_in_affise(offer, "5f0000000000000000000001", own, "5f00000000000000000000a1");
    manager.get(&format!("/admin/offers/{offer}")).await;
    manager
        .post(&format!("/admin/offers/{offer}/access"), &[("affiliate_id", &own.to_string()), ("state", "enabled")])
        .await;
    let by_hand: Vec<_> = app.affise_pushes().into_iter().filter(|p| p.ticket_id.is_none()).collect();
    assert_eq!(by_hand.len(), 1);
    assert_eq!(
        (by_hand[0].action, by_hand[0].state, by_hand[0].affise_partner_id.as_str()),
        (PushAction::Enable, PushState::Pending, "5f00000000000000000000a1")
    );
    assert!(manager.get(&format!("/admin/offers/{offer}")).await.contains("Waiting for Affise: not sent yet"));
});

db_test!(smartlinks_are_kept_like_offers, |app| {
    app.seed_demo();
    let mut admin = app.login_admin("admin@affdesk.test").await;
    admin.get("/admin/smartlinks/new").await;
    let made = admin.post("/admin/smartlinks", &[("name", "Sweepstakes EU"), ("privacy", "protected")]).await;
    assert_eq!(made.status, 303, "{}", made.body);
    let smartlink = |app: &crate::harness::TestApp| app.all_smartlinks().pop().expect("the new Smartlink");
    let id = smartlink(&app).id;
    assert_eq!(smartlink(&app).privacy, Privacy::Premoderated);
    let found = admin.get("/admin/smartlinks?q=sweepstakes").await;
    assert!(found.contains(&format!("id=\"smartlinks-{id}\"")) && found.contains("protected"), "{}", found.body);
    admin.get(&format!("/admin/smartlinks/{id}")).await;
    let bad =
        admin.post(&format!("/admin/smartlinks/{id}/access"), &[("affiliate_id", "abc"), ("state", "enabled")]).await;
    assert_eq!(bad.status, 303);
    assert!(admin.get(&format!("/admin/smartlinks/{id}")).await.contains("Enter the ID of an affiliate"));
    admin.post(&format!("/admin/smartlinks/{id}/access"), &[("affiliate_id", "1"), ("state", "enabled")]).await;
    let smartlink_id = crate::desk::SmartlinkId(id);
    assert_eq!(app.smartlink_access(smartlink_id, 1), Some((AccessGrant::Enabled, AccessSource::Manual)));
    let renamed = admin.post(&format!("/admin/smartlinks/{id}"), &[("name", ""), ("privacy", "private")]).await;
    assert_eq!(renamed.status, 422);
    assert!(renamed.contains("id=\"item-name-error\""));
    assert_eq!(smartlink(&app).name, "Sweepstakes EU");
    assert_eq!(
        admin.post(&format!("/admin/smartlinks/{id}"), &[("name", "Sweeps"), ("privacy", "private")]).await.status,
        303
    );
    let renamed = smartlink(&app);
    assert_eq!((renamed.name.as_str(), renamed.privacy), ("Sweeps", Privacy::Private));
    assert_eq!(app.audited(AuditAction::AddSmartlink, None) + app.audited(AuditAction::EditSmartlink, None), 2);
});

const AFFILIATES: &str = "external_id,email,name,status,manager_email\n\
    ext-1,one@partner.test,Partner One,active,manager1@affdesk.test\n\
    ext-2,two@partner.test,Partner Two,not_active,\n";

db_test!(an_import_is_previewed_then_applied_once_and_a_bad_file_changes_nothing, |app| {
    app.seed_demo();
    let m1 = app.staff("manager1@affdesk.test").id;
    let mut admin = app.login_admin("admin@affdesk.test").await;
    assert_eq!(admin.get("/admin/import").await.status, 200);
    // A bad file: every wrong line is named, and nothing is kept.
    let before = app.all_affiliates().len();
    let bad = "external_id,email,name,status,manager_email\n\
        ext-1,one@partner.test,Partner One,active,\n\
        ext-2,not an email,Two,active,\n\
        ext-3,three@partner.test,Three,sleeping,\n\
        ext-4,four@partner.test,Four,active,nobody@affdesk.test\n\
        ext-1,again@partner.test,Again,active,\n\
        ext-5,one@partner.test,Same Email,active,\n";
    let page = admin.post_file("/admin/import", &[("kind", "affiliates")], "bad.csv", bad.as_bytes().to_vec()).await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert!(page.contains("5 lines are wrong"), "{}", page.body);
    for (line, words) in [
        (3, "is not an email address"),
        (4, "status &quot;sleeping&quot;"),
        (5, "nobody@affdesk.test is not known"),
        (6, "ext-1 is also on line 2"),
        (7, "one@partner.test belongs to the affiliate with Affise id ext-1"),
    ] {
        assert!(page.contains(&format!("<tr><td>{line}</td><td>")), "line {line}: {}", page.body);
        assert!(page.contains(words) || page.contains(&words.replace("&quot;", "&#34;")), "{words}");
    }
    assert!(!page.contains("/admin/import/apply"), "no Apply for a bad file");
    assert_eq!(app.all_affiliates().len(), before);
    // A good file: the preview keeps nothing; Apply does, once.
    let page = admin
        .post_file("/admin/import", &[("kind", "affiliates")], "partners.csv", AFFILIATES.as_bytes().to_vec())
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.contains("2 new, 0 updated, 0 unchanged") && page.contains("Apply 2 lines"), "{}", page.body);
    assert_eq!(app.all_affiliates().len(), before);
    let applied = admin.post("/admin/import/apply", &[("kind", "affiliates")]).await;
    assert_eq!(applied.status, 303);
    assert!(admin.get("/admin/import").await.contains("partners.csv imported: 2 records: 2 new"));
    assert_eq!(app.all_affiliates().len(), before + 2);
    let one = app.affiliate_from_affise("ext-1");
    assert_eq!(
        (one.email.as_str(), one.status, one.manager_id),
        ("one@partner.test", AffiliateStatus::Active, Some(m1))
    );
    assert_eq!(app.audited(AuditAction::Import, None), 1);
    // The same Apply again has no file behind it; the same file again changes nothing.
    assert_eq!(admin.post("/admin/import/apply", &[("kind", "affiliates")]).await.status, 303);
    assert!(admin.get("/admin/import").await.contains("There is no checked file to apply"));
    let again = admin
        .post_file("/admin/import", &[("kind", "affiliates")], "partners.csv", AFFILIATES.as_bytes().to_vec())
        .await;
    assert!(again.contains("0 new, 0 updated, 2 unchanged"), "{}", again.body);
    // Offers, then access by external ids, recorded as from an import.
    let offers = "external_id,title,status,privacy,payout,currency\noff-1,Imported Offer,active,private,3.20,usd\n";
    admin.post_file("/admin/import", &[("kind", "offers")], "offers.csv", offers.as_bytes().to_vec()).await;
    assert_eq!(admin.post("/admin/import/apply", &[("kind", "offers")]).await.status, 303);
    let access = "affiliate_external_id,offer_external_id,access\next-1,off-1,enabled\next-2,off-1,disabled\n";
    let page = admin.post_file("/admin/import", &[("kind", "access")], "access.csv", access.as_bytes().to_vec()).await;
    assert!(page.contains("2 new"), "{}", page.body);
    admin.post("/admin/import/apply", &[("kind", "access")]).await;
    let imported = app.offer_from_affise("off-1").id;
    let access_of = |partner: &str| app.offer_access(imported, app.affiliate_from_affise(partner).id);
    assert_eq!(access_of("ext-1"), Some((AccessGrant::Enabled, AccessSource::Import)));
    assert_eq!(access_of("ext-2"), Some((AccessGrant::Disabled, AccessSource::Import)));
    // Missing columns and an empty upload are told on the page.
    let headerless = admin.post_file("/admin/import", &[("kind", "offers")], "x.csv", b"id,name\n1,x\n".to_vec()).await;
    assert_eq!(headerless.status, 422);
    assert!(headerless.contains("the header has no external_id, title column"), "{}", headerless.body);
    let empty = admin.post_file("/admin/import", &[("kind", "offers")], "x.csv", Vec::new()).await;
    assert_eq!(empty.status, 422);
    assert!(empty.contains("id=\"import-file-error\""));
    // Managers do not import.
    let mut manager = app.login_admin("manager1@affdesk.test").await;
    assert_eq!(manager.get("/admin/import").await.status, 403);
});

db_test!(a_large_import_goes_page_by_page_and_one_late_error_keeps_nothing, |app| {
    app.seed_demo();
    let admin = affdesk::domain::Actor::system();
    let mut file = String::from("external_id,title,privacy,payout\n");
    for i in 0..1_800 {
        file.push_str(&format!("bulk-{i},Bulk offer {i},protected,{}.{:02}\n", i % 90, i % 100));
    }
    let with_error = format!("{file}bulk-x,,protected,1\n");
    let before = app.all_offers().len();
    let mut pooled = app.conn();
    let conn: &mut affdesk::db::AnyConnection = &mut pooled;
    let report = affdesk::domain::import::run(
        conn,
        &admin,
        affdesk::domain::import::ImportKind::Offers,
        with_error.as_bytes(),
        true,
    )
    .unwrap();
    assert!(!report.applied);
    assert_eq!((report.records, report.created, report.error_count), (1_801, 1_800, 1));
    assert_eq!(report.errors[0].line, 1_802);
    assert_eq!(app.all_offers().len(), before, "one wrong line keeps nothing of the pages before it");
    let report =
        affdesk::domain::import::run(conn, &admin, affdesk::domain::import::ImportKind::Offers, file.as_bytes(), true)
            .unwrap();
    assert!(report.applied);
    assert_eq!(app.all_offers().len(), before + 1_800);
    let report =
        affdesk::domain::import::run(conn, &admin, affdesk::domain::import::ImportKind::Offers, file.as_bytes(), true)
            .unwrap();
    assert_eq!((report.created, report.updated, report.unchanged), (0, 0, 1_800));
});

#[test]
fn the_command_line_imports_and_refuses_a_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("affdesk.db").display());
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_affdesk"))
            .args(["--database-url", &db])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    assert!(run(&["migrate"]).0);
    let good = dir.path().join("smartlinks.csv");
    std::fs::write(&good, "external_id,name,privacy\nsl-1,Dating EU,protected\nsl-2,Finance US,private\n").unwrap();
    let (ok, out, _) = run(&["import", "smartlinks", good.to_str().unwrap(), "--dry-run"]);
    assert!(ok && out.contains("2 new") && out.contains("nothing was changed"), "{out}");
    let (ok, out, _) = run(&["import", "smartlinks", good.to_str().unwrap()]);
    assert!(ok && out.contains("2 new") && out.contains("imported"), "{out}");
    let (ok, out, _) = run(&["import", "smartlinks", good.to_str().unwrap()]);
    assert!(ok && out.contains("2 unchanged"), "{out}");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "external_id,name,privacy\nsl-3,New one,protected\nsl-4,Bad,hidden\n").unwrap();
    let (ok, _, err) = run(&["import", "smartlinks", bad.to_str().unwrap()]);
    assert!(!ok && err.contains("line 3: privacy \"hidden\" is not public, protected or private"), "{err}");
    let (_, out, _) = run(&["import", "smartlinks", bad.to_str().unwrap(), "--dry-run"]);
    assert!(out.contains("1 new"), "sl-3 was not kept: {out}");
}
